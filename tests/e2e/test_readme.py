#!/usr/bin/env python3
"""End-to-end: the README, typed in order by a new user.

Starts the daemon as ./scripts/run.sh does (servescale serve with
examples/seldon-0.2.7-hpaspec.json, state in ~/.local/state/servescale of a
temporary HOME), then runs, with bash, every command of the README's OAuth
block and of its "Using it" block, in order, verbatim but for the
gateway's port (the README's 8000 becomes the free port this run chose) and
`servescale` (the binary under test), then the "Seldon Core 2" block. Each must exit 0, and what the README
says it shows must be there (a prediction answered, the seed's objects
listed, the HPA of examples/hpa-deployment.yaml aimed at its Deployment).

Usage: test_readme.py SERVESCALE_BINARY SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, stop_all, wait_until, args_or_default  # noqa: E402

BINARY, SOURCE = args_or_default()
SOURCE = os.path.abspath(SOURCE)
checks = Checks()
check = checks.check
CMD_TIMEOUT_S = 150


def blocks(text):
    """The README's sh blocks: (heading, [lines])."""
    out, heading = [], ""
    for m in re.finditer(r"^(##+ [^\n]*)$|^```sh\n(.*?)^```", text, re.M | re.S):
        if m.group(1):
            heading = m.group(1)
        else:
            out.append((heading, m.group(2).splitlines()))
    return out


def commands(lines):
    """Whole commands: continuation lines joined, comment-only lines dropped."""
    cmds, cur = [], ""
    for line in lines:
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        cur += line + "\n"
        if not line.rstrip().endswith("\\"):
            cmds.append(cur)
            cur = ""
    return cmds


def main():
    with open(os.path.join(SOURCE, "README.md")) as f:
        text = f.read()
    found = blocks(text)
    oauth = next((b for h, b in found if h == "## Two commands" and any("TOKEN=" in l for l in b)),
                 None)
    using = next((b for h, b in found if h == "## Using it"), None)
    core2 = next((b for h, b in found if h == "## Seldon Core 2"), [])
    check("the README has the OAuth block and the \"Using it\" block", oauth and using)
    if not (oauth and using):
        return
    home = tempfile.mkdtemp(prefix="ss-readme-")
    state = os.path.join(home, ".local", "state", "servescale")
    os.makedirs(state)
    bindir = os.path.join(home, "bin")
    os.makedirs(bindir)
    os.symlink(os.path.abspath(BINARY), os.path.join(bindir, "servescale"))
    work = os.path.join(home, "work")  # the clone, as the user's working directory
    os.makedirs(work)
    for entry in ("examples", "tests", "scripts", "README.md"):
        os.symlink(os.path.join(SOURCE, entry), os.path.join(work, entry))
    d = Daemon(BINARY, state_dir=state)
    try:
        d.start(files=[os.path.join(SOURCE, "examples", "seldon-0.2.7-hpaspec.json")])
        port = d.gateway.rsplit(":", 1)[1]
        env = dict(os.environ)
        env.pop("KUBECONFIG", None)
        env.pop("SERVESCALE_GATEWAY", None)
        env.update(HOME=home, PATH=bindir + os.pathsep + env.get("PATH", ""))
        ready = wait_until(lambda: (d.get_sdep("default", "seldon-model") or {})
                           .get("status", {}).get("state") == "Available", 60)
        check("run.sh's deployment is Available", ready)
        script = "set -e\ncd %s\n" % work
        outputs = []
        for cmd in commands(oauth) + commands(using) + commands(core2):
            shown = cmd.strip().splitlines()[0]
            cmd = cmd.replace("localhost:8000", "127.0.0.1:" + port)
            t0 = time.monotonic()
            try:
                p = subprocess.run(["bash", "-c", script + cmd], env=env, capture_output=True,
                                   timeout=CMD_TIMEOUT_S)
                rc, out, err = p.returncode, p.stdout.decode("utf-8", "replace"), \
                    p.stderr.decode("utf-8", "replace")
            except subprocess.TimeoutExpired:
                rc, out, err = -1, "", "timed out after %d s" % CMD_TIMEOUT_S
            outputs.append((shown, out))
            check("%s  (%.1f s)" % (shown[:100], time.monotonic() - t0), rc == 0,
                  (rc, out[-1500:], err[-1500:]))
            if re.match(r"(export )?[A-Za-z_]+=", cmd):  # set for what follows, as in a shell
                script += cmd
        text_of = {c: o for c, o in outputs}

        def out_of(prefix):
            return next((o for c, o in outputs if c.startswith(prefix)), "")
        check("the prediction with the OAuth token is answered",
              '"ndarray"' in out_of('curl -s -H "Authorization: Bearer'), out_of("curl -s -H"))
        check("kubectl get sdep,deployments,pods -n seldon lists the seed's objects",
              "seldondeployment.machinelearning.seldon.io/seldon-model" in
              out_of("kubectl get sdep,deployments,pods")
              and "deployment.apps/seldon-model-example-0-classifier" in
              out_of("kubectl get sdep,deployments,pods"), out_of("kubectl get sdep"))
        check("kubectl get hpa,deployments -n plain shows the user's HPA aimed at the Deployment",
              "Deployment/seldon-model-example-0-classifier" in out_of("kubectl get hpa,deployments"),
              out_of("kubectl get hpa,deployments"))
        check("the Core 2 block: the iris model answers V2 with a prediction",
              '"model_name":"iris"' in out_of("curl -s -H 'Content-Type: application/json' -d '{\"inputs\""),
              out_of("curl -s -H 'Content-Type: application/json' -d '{\"inputs\""))
        check("servescale prometheus-config wrote a configuration",
              os.path.getsize(os.path.join(work, "prometheus.yml")) > 0, text_of.keys())
    finally:
        d.stop()
        if checks.failed:
            print(d.stderr()[-3000:])
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    t0 = time.monotonic()
    try:
        main()
    finally:
        stop_all()
    print("(%.1f s)" % (time.monotonic() - t0))
    sys.exit(checks.finish())
