# mockstripe in a container, e.g. as a CI service:
#   docker build -t mockstripe . && docker run --rm -p 12111:12111 mockstripe
# Configure it with MOCKSTRIPE_* environment variables (see README.md).
# tests/test_packaging.py installs what this copies and runs its CMD and HEALTHCHECK.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
COPY pyproject.toml README.md /tmp/mockstripe/
COPY mockstripe /tmp/mockstripe/mockstripe
RUN pip install /tmp/mockstripe && rm -rf /tmp/mockstripe

USER nobody
EXPOSE 12111
HEALTHCHECK --interval=2s --timeout=3s --start-period=5s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('MOCKSTRIPE_PORT', '12111') + '/_mock/health', timeout=2)"]
CMD ["mockstripe", "--host", "0.0.0.0"]
