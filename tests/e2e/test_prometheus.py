#!/usr/bin/env python3
"""End-to-end: a real Prometheus (Debian's /usr/bin/prometheus) scrapes the
gateway with the configuration `servescale prometheus-config` prints.

The test applies examples/model_with_keda_prom.yaml, writes the printed
configuration to a file (promtool check config must accept it), starts
Prometheus on a free loopback port with its TSDB in a temporary directory,
sends N predictions, and reads back through Prometheus' HTTP API:
  - sum(seldon_api_executor_client_requests_seconds_count{model_name="classifier"}) == N,
  - the seed's KEDA query
    rate(seldon_api_executor_client_requests_seconds_count{model_name="classifier"}[1m])
    is positive,
  - the replica discovered through the gateway's /sd/targets (http_sd) and
    its own /prometheus scraped (mock_classifier_predictions_total == N);
and checks the gateway's /prometheus text with `promtool check metrics`.

Usage: test_prometheus.py SERVESCALE_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ss_e2e import Checks, Daemon, args_or_default, predict, run_timed, stop_all, \
    wait_until  # noqa: E402
from ss_prometheus import Prometheus, http_get  # noqa: E402

BINARY, SOURCE = args_or_default()
EXAMPLES = os.path.join(SOURCE, "examples")
NS, NAME = "seldon", "seldon-model"
N = 50
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
COUNT = 'seldon_api_executor_client_requests_seconds_count{model_name="classifier"}'
SEED_QUERY = 'rate(seldon_api_executor_client_requests_seconds_count{model_name="classifier"}[1m])'

checks = Checks()
check = checks.check


def pod_monitor(d, prom, cfg_path):
    """The seed's PodMonitor, applied, becomes the replicas' scrape job, as
    the Prometheus operator makes it on a cluster; the gateway's address
    comes from the daemon's state directory (no --gateway)."""
    rc, out, err = d.kubectl("apply", "-f", os.path.join(EXAMPLES, "pod-monitor.yaml"))
    check("kubectl apply -f pod-monitor.yaml", rc == 0, out + err)
    env = dict(os.environ)
    env.pop("SERVESCALE_GATEWAY", None)
    cfg = subprocess.run([BINARY, "prometheus-config", "--kubeconfig", d.kubeconfig,
                          "--interval", "1s"], capture_output=True, timeout=30, env=env)
    text = cfg.stdout.decode("utf-8", "replace")
    check("prometheus-config reads it: job podMonitor/seldon-monitoring/seldon-podmonitor/0, "
          "the gateway %s found in the daemon's state directory" % d.gateway,
          cfg.returncode == 0 and 'job_name: "podMonitor/seldon-monitoring/seldon-podmonitor/0"'
          in text and d.gateway.split("//")[1] in text and "job_name: servescale-replicas" not in text,
          text + cfg.stderr.decode())
    with open(cfg_path, "wb") as f:
        f.write(cfg.stdout)
    pc = subprocess.run([PROMTOOL, "check", "config", cfg_path], capture_output=True, timeout=30)
    check("promtool check config accepts it", pc.returncode == 0,
          (pc.stdout + pc.stderr).decode("utf-8", "replace"))
    prom.proc.send_signal(1)  # SIGHUP: Prometheus reloads its configuration
    job = 'up{job="seldon-monitoring/seldon-podmonitor"}'
    up = wait_until(lambda: prom.value(job) == 1.0, 20, 0.25)
    series = prom.query(job) or []
    labels = series[0]["metric"] if series else {}
    check("the replica is scraped by the PodMonitor's job, labelled as the operator labels it "
          "(namespace, pod, endpoint): %s" % labels,
          up and labels.get("namespace") == NS and labels.get("pod", "").startswith(
              "seldon-model-example-0-classifier-") and labels.get("endpoint") == "metrics",
          prom.query("up"))
    q = 'mock_classifier_predictions_total{job="seldon-monitoring/seldon-podmonitor"}'
    got = wait_until(lambda: prom.value(q) == float(N), 15, 0.25)
    check("its /prometheus through the PodMonitor's path: %s == %d" % (q, N), got, prom.query(q))


def main():
    tmp = tempfile.mkdtemp(prefix="ss-prom-")
    d = Daemon(BINARY, backoff_base_ms=200)
    prom = None
    try:
        d.start()
        check("gateway URL in the banner", d.gateway, d.gateway)
        rc, out, err = d.kubectl("apply", "-f", os.path.join(EXAMPLES, "model_with_keda_prom.yaml"),
                                 "-n", NS)
        check("kubectl apply examples/model_with_keda_prom.yaml", rc == 0, out + err)

        cfg = subprocess.run([BINARY, "prometheus-config", "--gateway", d.gateway,
                              "--interval", "1s"], capture_output=True, timeout=30)
        cfg_path = os.path.join(tmp, "prometheus.yml")
        with open(cfg_path, "wb") as f:
            f.write(cfg.stdout)
        check("servescale prometheus-config --gateway %s --interval 1s" % d.gateway,
              cfg.returncode == 0 and b"scrape_configs" in cfg.stdout, cfg.stderr)
        pc = subprocess.run([PROMTOOL, "check", "config", cfg_path], capture_output=True,
                            timeout=30)
        check("promtool check config accepts it", pc.returncode == 0,
              (pc.stdout + pc.stderr).decode("utf-8", "replace"))

        def ready():
            st = (d.get_sdep(NS, NAME) or {}).get("status", {})
            return st.get("state") == "Available"
        check("the deployment is Available", wait_until(ready, 60, 0.2),
              (d.get_sdep(NS, NAME) or {}).get("status"))

        prom = Prometheus(cfg_path, tmp)
        started = prom.start()
        check("Prometheus started on 127.0.0.1:%s" % prom.port, started, prom.logs()[-2000:])
        if not started:
            return
        up = wait_until(lambda: prom.value('up{job="servescale"}') == 1.0, 20, 0.25)
        check("Prometheus scrapes the gateway (up{job=\"servescale\"} == 1)", up,
              prom.query("up"))
        # one scrape of the deployment's series before the traffic, so the
        # counter's rise from zero is in the window of the seed's rate()
        wait_until(lambda: prom.value("sum(%s)" % COUNT) is not None, 3, 0.25)

        url = d.gateway + "/seldon/%s/%s/api/v1.0/predictions" % (NS, NAME)
        ok = 0
        for i in range(N):
            status, body = predict(url)
            ok += status == 200
            if i % 10 == 9:
                time.sleep(0.4)  # spread over a few scrapes
        check("%d predictions answered 200" % N, ok == N, ok)

        got = wait_until(lambda: prom.value("sum(%s)" % COUNT) == float(N), 20, 0.25)
        check("through Prometheus' API: sum(%s) == %d (got %s)"
              % (COUNT, N, prom.value("sum(%s)" % COUNT)), got, prom.query(COUNT))
        rate = wait_until(lambda: (prom.value("sum(%s)" % SEED_QUERY) or 0) > 0, 10, 0.25)
        check("the seed's query %s is positive (%s)" % (SEED_QUERY, prom.query(SEED_QUERY)),
              rate, prom.query(SEED_QUERY))
        series = prom.query(COUNT) or []
        labels = series[0]["metric"] if series else {}
        check("the series carries Seldon's labels (deployment_name, predictor_name, service, "
              "method, code, model_image)",
              labels.get("deployment_name") == NAME and labels.get("predictor_name") == "example"
              and labels.get("service") == "/predict" and labels.get("method") == "post"
              and labels.get("code") == "200"
              and labels.get("model_image") == "seldonio/mock_classifier", labels)
        srv = prom.value('sum(seldon_api_executor_server_requests_seconds_count'
                         '{deployment_name="%s",service="predictions"})' % NAME)
        check("server side: seldon_api_executor_server_requests_seconds_count == %d (%s)"
              % (N, srv), srv == float(N), srv)

        def discovered():
            st, body = http_get(prom.url("/api/v1/targets"))
            ts = json.loads(body)["data"]["activeTargets"]
            return [t for t in ts if t.get("scrapePool") == "servescale-replicas"
                    and t.get("labels", {}).get("seldon_deployment_id") == NAME]
        found = wait_until(discovered, 15, 0.25)
        check("http_sd: the replica is discovered through /sd/targets with its labels",
              found and all(t["labels"].get("namespace") == NS for t in found),
              found)
        q = 'sum(mock_classifier_predictions_total{seldon_deployment_id="%s"})' % NAME
        rep = wait_until(lambda: prom.value(q) == float(N), 15, 0.25)
        check("the replica's own /prometheus, scraped through http_sd: %s == %d (got %s)"
              % (q, N, prom.value(q)), rep, prom.query('up{job="servescale-replicas"}'))

        pod_monitor(d, prom, cfg_path)

        st, text = http_get(d.gateway + "/prometheus")
        pm = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                            timeout=30)
        check("promtool check metrics accepts the gateway's /prometheus (%d bytes)" % len(text),
              st == 200 and pm.returncode == 0, (pm.stdout + pm.stderr).decode("utf-8", "replace"))
    finally:
        if prom:
            prom.stop()
        d.stop()
        stop_all()
        if checks.failed:
            sys.stdout.write("--- daemon log (tail)\n%s\n" % d.stderr()[-3000:])
            if prom:
                sys.stdout.write("--- prometheus log (tail)\n%s\n" % prom.logs()[-3000:])
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_timed(main, checks)
