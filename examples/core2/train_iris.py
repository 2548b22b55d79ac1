"""Trains scikit-learn's iris classifier and saves it as MLServer's sklearn
runtime expects it: DIR/model.joblib (Debian's python3-sklearn)."""
import os
import sys

import joblib
from sklearn import datasets, svm


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: train_iris.py DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    iris = datasets.load_iris()
    clf = svm.SVC(gamma="scale", probability=True, random_state=1)
    clf.fit(iris.data, iris.target)
    joblib.dump(clf, os.path.join(out, "model.joblib"))
    print(os.path.join(out, "model.joblib"))


if __name__ == "__main__":
    main()
