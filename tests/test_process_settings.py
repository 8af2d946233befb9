"""The CPU backend's process-wide settings (scratchgen/backends/process_settings.py): applied
once when scratchgen is imported, before NumPy loads, and not at all with
SCRATCHGEN_PROCESS_SETTINGS=0. Each case runs in a fresh interpreter."""
import json
import os
import subprocess
import sys

REPORT = """
import json, os, sys
import scratchgen
from scratchgen.backends import process_settings
print(json.dumps({"timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"), "applied": process_settings.applied}))
"""


def run_fresh(**environment):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "SCRATCHGEN_PROCESS_SETTINGS")}
    env.update(environment)
    result = subprocess.run([sys.executable, "-c", REPORT], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_scratchgen_lets_openblas_threads_sleep():
    assert run_fresh() == {"timeout": "4", "applied": True}


def test_a_value_the_user_set_wins():
    assert run_fresh(OPENBLAS_THREAD_TIMEOUT="100") == {"timeout": "100", "applied": True}


def test_the_switch_leaves_the_process_as_it_was():
    assert run_fresh(SCRATCHGEN_PROCESS_SETTINGS="0") == {"timeout": None, "applied": False}


def test_no_other_module_calls_mallopt_or_sets_openblas_variables():
    package = os.path.join(os.path.dirname(__file__), "..", "scratchgen")
    offenders = []
    for folder, _, files in os.walk(package):
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith(".py") and name != "process_settings.py":
                text = open(path).read()
                if "mallopt" in text or "OPENBLAS_" in text and "environ" in text:
                    offenders.append(os.path.relpath(path, package))
    assert offenders == []
