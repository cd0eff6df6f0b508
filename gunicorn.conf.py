"""gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app`` from the repository root."""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
# Method and path only, never the query string nor the body: Kannel's calls carry its
# shared secret, the sender's number and the text in the query (/kannel/sms).
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# The garbage collector: what a worker has loaded (the app, its modules, the compiled
# statements) is set aside from its scans, and it scans after 20,000 new objects rather
# than 700. A request makes many short-lived objects and few cycles: the same requests
# take 10–15% less CPU (bench/webhook_latency.py).
GC_THRESHOLD = (20_000, 20, 20)


def post_worker_init(worker):
    import gc

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
