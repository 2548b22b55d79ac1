#!/usr/bin/env python3
"""End-to-end: images. An image with no command sets the deployment's state
Failed with a message that names the image and the image map, and nothing
else is disturbed; an image map (--image-map FILE) makes another image run
(here: the built-in classifier under another name, with extra args); a
malformed image map stops the daemon at start with FILE:LINE:COL.

Usage: test_images.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, predict, stop_daemon_no_orphans, wait_until, \
    args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
checks = Checks()
check = checks.check

SDEP = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: {name}
  namespace: images
spec:
  predictors:
  - name: default
    graph: {{name: classifier, type: MODEL}}
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: {image}
"""


def state_of(d, name):
    obj = d.get_sdep("images", name)
    st = (obj or {}).get("status", {})
    return st.get("state"), st.get("description", "")


def main():
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="ss-images-")
    imap = os.path.join(work, "images.yaml")
    with open(imap, "w") as f:
        f.write('images:\n  "myorg/iris:*": ["%s", "mock-classifier", "--name", "iris"]\n' % BINARY)
    d = Daemon(BINARY, extra_args=["--image-map", imap])
    try:
        d.start()
        for name, image in (("unmapped", "myorg/unknown:1.0"), ("mapped", "myorg/iris:2.1"),
                            ("builtin", "seldonio/mock_classifier:1.19.0-dev")):
            path = os.path.join(work, name + ".yaml")
            with open(path, "w") as f:
                f.write(SDEP.format(name=name, image=image))
            rc, out, err = d.kubectl("apply", "-f", path)
            check("apply " + name, rc == 0, (rc, out, err))
        failed = wait_until(lambda: state_of(d, "unmapped")[0] == "Failed", 20)
        state, why = state_of(d, "unmapped")
        check("an unmapped image sets state Failed", failed, (state, why))
        check("the description names the image and the image map",
              "myorg/unknown:1.0" in why and "image map" in why, why)
        rc, out, err = d.kubectl("describe", "sdep", "unmapped", "-n", "images")
        check("describe shows a Failed warning event", "Warning" in out and "Failed" in out,
              out[-1500:])
        for name in ("mapped", "builtin"):
            ok = wait_until(lambda: state_of(d, name)[0] == "Available", 30)
            check(name + " is Available", ok, state_of(d, name))
        url = d.gateway + "/seldon/images/mapped/api/v1.0/predictions"
        status, body = predict(url)
        check("the mapped image answers through the gateway",
              status == 200 and body.get("data", {}).get("names") == ["proba"], (status, body))
        check("meta.requestPath names the mapped image",
              isinstance(body, dict) and
              body.get("meta", {}).get("requestPath", {}).get("classifier") == "myorg/iris:2.1",
              body)
        status, body = predict(d.gateway + "/seldon/images/unmapped/api/v1.0/predictions",
                               timeout=5)
        check("the failed deployment does not answer 200", status != 200, (status, body))
        check("daemon still running", d.alive(), d.stderr()[-2000:])
        code = d.stop()
        check("daemon exits 0 on SIGTERM", code == 0, (code, d.stderr()[-1500:]))

        bad = os.path.join(work, "bad.yaml")
        with open(bad, "w") as f:
            f.write('images:\n  "x/y:*": "not a list"\n')
        p = subprocess.run([BINARY, "serve", "--state-dir", os.path.join(work, "s2"),
                            "--api-port", "0", "--gateway-port", "0", "--image-map", bad],
                           capture_output=True, text=True, timeout=30)
        check("a malformed image map stops the daemon with FILE:LINE:COL",
              p.returncode != 0 and bad + ":2:" in p.stderr, (p.returncode, p.stderr))
    except Exception as e:
        import traceback
        traceback.print_exc()
        check("test ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop_daemon_no_orphans(d, check)
    print("elapsed %.1fs" % (time.monotonic() - t0))
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
