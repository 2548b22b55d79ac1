"""locustfile.py: the seed's load as real locust runs it (Debian's
python3-locust), the alternative to `servescale loadtest`:

    locust -f examples/locustfile.py --headless -u 4 -r 2 -t 60s \
        --host http://127.0.0.1:8000

SDEP (default seldon-model) and NAMESPACE (default) pick the deployment;
OAUTH_KEY and OAUTH_SECRET (the seed's: oauth-key, oauth-secret) get a
token from the gateway's /oauth/token first; empty OAUTH_KEY skips it.
"""
import os

from locust import HttpUser, between, task

SDEP = os.environ.get("SDEP", "seldon-model")
NAMESPACE = os.environ.get("NAMESPACE", "default")
KEY = os.environ.get("OAUTH_KEY", "oauth-key")
SECRET = os.environ.get("OAUTH_SECRET", "oauth-secret")
BODY = {"data": {"ndarray": [[1, 2, 3, 4]]}}


class SeldonUser(HttpUser):
    wait_time = between(0, 0.01)

    def on_start(self):
        self.headers = {}
        if KEY:
            r = self.client.post("/oauth/token", auth=(KEY, SECRET),
                                 data={"grant_type": "client_credentials"})
            self.headers["Authorization"] = "Bearer " + r.json()["access_token"]

    @task
    def predict(self):
        self.client.post("/seldon/%s/%s/api/v1.0/predictions" % (NAMESPACE, SDEP), json=BODY,
                         headers=self.headers, name="predictions")
