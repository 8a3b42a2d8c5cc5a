#!/usr/bin/env python3
"""Deploys a tagged Beacon release to staging, runs the smoke test, then promotes to production."""

import subprocess
import sys
import time

STAGING = "beacon-staging"
PRODUCTION = "beacon"
SMOKE_TIMEOUT_SECONDS = 600


def set_image(namespace, tag):
    """Points the deployment at the release image and waits for the rollout."""
    image = f"registry.lumenharbor.example/beacon:{tag}"
    subprocess.run(["kubectl", "-n", namespace, "set", "image", "deploy/beacon", f"beacon={image}"], check=True)
    subprocess.run(["kubectl", "-n", namespace, "rollout", "status", "deploy/beacon", "--timeout=300s"], check=True)


def smoke_test(namespace):
    """Runs the smoke-test job; fails the deploy if it does not pass within ten minutes."""
    subprocess.run(["kubectl", "-n", namespace, "create", "job", "--from=cronjob/smoke", "smoke-now"], check=True)
    deadline = time.time() + SMOKE_TIMEOUT_SECONDS
    while time.time() < deadline:
        out = subprocess.run(["kubectl", "-n", namespace, "get", "job", "smoke-now", "-o", "jsonpath={.status.succeeded}"],
                             capture_output=True, text=True)
        if out.stdout.strip() == "1":
            return True
        time.sleep(10)
    return False


def rollback(namespace):
    """Returns the deployment to the previous revision."""
    subprocess.run(["kubectl", "-n", namespace, "rollout", "undo", "deploy/beacon"], check=True)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: deploy.py vMAJOR.MINOR.PATCH")
    tag = sys.argv[1]
    set_image(STAGING, tag)
    if not smoke_test(STAGING):
        rollback(STAGING)
        sys.exit(f"smoke test failed on staging for {tag}; staging rolled back, production untouched")
    set_image(PRODUCTION, tag)


if __name__ == "__main__":
    main()
