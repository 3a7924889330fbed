"""gunicorn settings for Koppelpunt (`gunicorn -c deploy/gunicorn.conf.py koppelpunt.wsgi`).

UWLR partners pull whole schools at night, so answers can be several MB: keep workers synchronous (answers are
built from a per-koppeling cache, CPU-bound) and scale with processes and threads.
"""

import multiprocessing
import os

bind = os.environ.get("KOPPELPUNT_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("KOPPELPUNT_WEB_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("KOPPELPUNT_WEB_THREADS", 4))
worker_class = "gthread"
timeout = 120
graceful_timeout = 30
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# Request bodies are capped in Django (KOPPELPUNT_UWLR_MAX_REQUEST_BYTES); header limits stay gunicorn's defaults.
# The application writes one JSON access line per request itself (koppelpunt.logging.RequestLogMiddleware, with
# ids and without query strings); gunicorn's own access log would double every line.
# KOPPELPUNT_GUNICORN_ACCESS_LOG=1 turns it on as well (it also covers static files).
accesslog = "-" if os.environ.get("KOPPELPUNT_GUNICORN_ACCESS_LOG") == "1" else None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
forwarded_allow_ips = os.environ.get("KOPPELPUNT_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket (for `gunicornc`) defaults to one path in the home directory, shared by every
# instance of the user and unwritable under the systemd unit's ProtectSystem=strict; Koppelpunt does not use it.
control_socket_disable = True
