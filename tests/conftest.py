"""Hypothesis profiles: "dev" (the default), a lighter "ci" and a "thorough" one for hunting
bugs; pick one with HYPOTHESIS_PROFILE=thorough. No deadline: gradcheck's timing varies with
the drawn shapes."""
import os

from hypothesis import HealthCheck, settings

for _name, _examples in {"dev": 20, "ci": 10, "thorough": 300}.items():
    settings.register_profile(_name, max_examples=_examples, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
