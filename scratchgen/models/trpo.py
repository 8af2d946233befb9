"""TRPO (Schulman, Levine, Moritz, Jordan & Abbeel 2015, "Trust Region Policy Optimization") on
Gymnasium's classic-control tasks, with generalised advantage estimation (Schulman et al. 2016):
the agent of agent.py trained on the environment's own rewards. Its runs are the experts that
GAIL imitates (gail.py) and the baseline VIME explores beyond (vime.py).

Defaults: the classic-control settings of openai/imitation's pipeline (Ho & Ermon 2016, App. B):
(64, 64) tanh policy and value networks, at least 5000 steps per iteration, max KL 0.01, GAE
lambda 0.97; gamma 0.99 (the pipeline's 0.995 is for its longer v0 episodes).
"""
from .agent import Agent


class TRPO(Agent):
    name = "trpo"
    paper = "Schulman, Levine, Moritz, Jordan & Abbeel 2015, Trust Region Policy Optimization"
