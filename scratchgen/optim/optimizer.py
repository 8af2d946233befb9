"""Optimizer: the bookkeeping every optimizer shares (torch.optim.Optimizer's API).

Parameters live in `param_groups` (a list of dicts: 'params' plus that group's
hyperparameters); per-parameter buffers live in `state[param]`. `step()` updates each
parameter that has a gradient in place: its `.array` is overwritten and
`param._version[0]` is bumped once, so the Tensor object and its array are kept and
autograd can see that a saved value changed.

Each optimizer's module starts with its update rule, written as its paper writes it
(`adam_rule` in adam.py, ...), out of place, on arrays or on Tensors alike. `fused`, as
torch.optim's argument, says what runs it in `step()`: None (the default) or True, the
backend's fused in-place update (`param.backend.adam_update`: NumPy over all cores on the
CPU, a CUDA kernel on a GPU), which performs the rule's operations in the rule's order;
False, the rule itself on the arrays, whose results are copied into the parameter's and the
state's arrays.

`differentiable_step(params, grads, states)` runs the same rule on Tensors and returns the
new parameters and states as expressions of its arguments, changing nothing: a gradient
taken through them with create_graph=True differentiates through the optimizer's step
(Unrolled GAN, models/unrolled_gan.py, does so through k steps of its critic's Adam).
"""
import abc
import itertools

import numpy

from .. import Tensor, distributed, enable_grad, no_grad, tensor
from .. import maximum as tensor_maximum, sqrt as tensor_sqrt


class Optimizer(abc.ABC):
    def __init__(self, params, defaults, fused=None):
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts, "
                            "got a single Tensor (wrap it in a list)")
        if not (fused is None or isinstance(fused, bool)):
            raise ValueError(f"{self._name}: fused must be None, True or False, got {fused!r}")
        self.fused = fused  # not a group setting: state_dict() and checkpoints are as before
        self.defaults = defaults
        self._check_hyperparameters(defaults)
        self.state = {}
        self.param_groups = []
        param_groups = list(params)
        if not param_groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    # ---- what each optimizer defines -----------------------------------------------------
    @abc.abstractmethod
    def _check_hyperparameters(self, group):
        """Raise ValueError naming the argument when a hyperparameter of `group` is out of range."""

    @abc.abstractmethod
    def _initial_state(self, param, group):
        """This parameter's state before its first step: {name: value}, its buffers zeros like
        `param` (a Tensor); {} where there is none (SGD)."""

    @abc.abstractmethod
    def _rule_step(self, param, grad, group, state):
        """The readable rule on one parameter, out of place: (new param, new state dict) from
        `param`, `grad` and the buffers of `state`, all arrays (step with fused=False) or all
        Tensors (differentiable_step); the state's step count goes up by one."""

    def _fused_update(self, param, grad, group, state):
        """The backend's fused update of `param.array` and `state`'s buffers in place, for the
        optimizers that have one (fused=None or True)."""
        raise NotImplementedError(f"{self._name} has no fused update")

    # ---- groups --------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a dict {'params': [...], hyperparameter: value, ...}; missing hyperparameters
        take the optimizer's defaults (as torch, e.g. to unfreeze layers while training)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}.add_param_group: the group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(f"{self._name}: parameters must be an ordered collection (list, tuple, "
                            "generator), not a set, so that state_dict indices are reproducible")
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"{self._name}: can only optimize Tensors, got {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError(f"{self._name}: can't optimize a non-leaf Tensor (computed by "
                                 f"{param.grad_fn!r}); optimize the leaves it was computed from")
        group = {**self.defaults, **param_group, "params": params}
        self._check_hyperparameters(group)
        ids = [id(p) for p in params]
        known = {id(p) for g in self.param_groups for p in g["params"]}
        if len(set(ids)) != len(ids) or known.intersection(ids):
            raise ValueError(f"{self._name}: some parameters appear more than once across parameter groups")
        self.param_groups.append(group)

    # ---- training ------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget the gradients: `grad = None` (the default, as torch 2.x), or zeros."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                param.grad = None if set_to_none else param.grad.detach().zero_()

    def step(self, closure=None):
        """Update every parameter whose `.grad` is not None; parameters without one are
        skipped (no state is created). `closure`, if given, recomputes and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            # data-parallel hook (scratchgen.distributed): with several ranks, every gradient becomes
            # its mean over the ranks first, so that every rank takes this same step; one process: nothing
            distributed.average_gradients(param for group in self.param_groups for param in group["params"])
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self.state.get(param, {})
                    self._update(param, self._grad_array(param), group, state)
                    if state:  # SGD without momentum keeps none, as torch
                        self.state[param] = state
                    param._version[0] += 1
        return loss

    def _update(self, param, grad, group, state):
        """Update `param.array` and `state` (this parameter's dict, filled on its first step) in
        place from `grad` (an array of param's dtype): the fused update, or with fused=False the
        rule, whose new arrays are copied into the old ones."""
        if not state:
            state.update(self._initial_state(param, group))
        if self.fused is not False:
            return self._fused_update(param, grad, group, state)
        arrays = {name: value.array if isinstance(value, Tensor) else value for name, value in state.items()}
        new_param, new_state = self._rule_step(param.array, grad, group, arrays)
        param.array[...] = new_param
        for name, value in new_state.items():
            if isinstance(state.get(name), Tensor):
                state[name].array[...] = value
            elif hasattr(value, "shape"):  # a buffer the rule starts itself (SGD's b_1 = g_1): a copy of it
                state[name] = tensor(value, dtype=param.dtype, device=param.device)
            else:
                state[name] = value  # the step count

    def differentiable_step(self, params, grads, states=None):
        """One step of this optimizer as a function of Tensors, out of place: returns (new params,
        new states), Tensor expressions of `params`, `grads` and `states` computed by the readable
        rule (adam_rule, ...), so that a gradient taken through them with create_graph=True
        differentiates through the step. Nothing of the optimizer changes.

        params, grads: a list with one Tensor per parameter of this optimizer, in the order of its
        param_groups (whose lr, betas, ... apply), each of its parameter's shape; a None grad
        leaves its parameter and state as they are (as step() skips a parameter without .grad).
        states: a list of one dict per parameter as `optimizer.state[p]` holds them ({} before the
        first step); None: this optimizer's current state. Returned states go into the next call,
        so k calls unroll k steps."""
        where = f"{self._name}.differentiable_step"
        own = [(param, group) for group in self.param_groups for param in group["params"]]
        params = _checked_tensors(params, [param for param, _ in own], where, "params")
        grads = _checked_tensors(grads, params, where, "grads", optional=True)
        if states is None:
            states = [self.state.get(param, {}) for param, _ in own]
        elif not isinstance(states, (list, tuple)) or len(states) != len(own) or \
                not all(isinstance(state, dict) for state in states):
            raise TypeError(f"{where}: states must be a list of {len(own)} dicts (one per parameter, as "
                            f"optimizer.state holds them) or None, got {_described(states)}")
        new_params, new_states = [], []
        for (_, group), param, grad, state in zip(own, params, grads, states):
            if grad is not None:
                param, state = self._rule_step(param, grad, group, state or self._initial_state(param, group))
            new_params.append(param)
            new_states.append(state)
        return new_params, new_states

    def _grad_array(self, param):
        grad = param.grad.array
        if grad.shape != param.shape:
            raise ValueError(f"{self._name}.step: a gradient has shape {grad.shape} but its parameter "
                             f"has shape {param.shape}")
        return grad.astype(param.dtype, copy=False)

    # ---- checkpoints ---------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [index, ...]}]},
        parameters numbered in group order, as torch. State Tensors are shared, not copied."""
        index = {}
        param_groups = []
        for group in self.param_groups:
            for param in group["params"]:
                index.setdefault(id(param), len(index))
            param_groups.append({**group, "params": [index[id(p)] for p in group["params"]]})
        state = {index[id(param)]: dict(param_state) for param, param_state in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Take hyperparameters and state from `state_dict` (as `state_dict()` returns), for
        this optimizer's own parameters matched by position. State Tensors are copied to each
        parameter's dtype and device."""
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            keys = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{where}: expected a dict with keys 'param_groups' and 'state', got {keys}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the state dict has {len(saved_groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{where}: parameter group {i} has {len(saved['params'])} parameters in "
                                 f"the state dict and {len(group['params'])} in this optimizer")
        param_of = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                            itertools.chain.from_iterable(g["params"] for g in self.param_groups)))
        state = {}
        for index, param_state in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(f"{where}: the state dict has state for parameter {index}, which none "
                                 "of its parameter groups lists")
            param = param_of[index]
            state[param] = {name: _state_value(value, param, f"{where}: state {name!r} of parameter {index}")
                            for name, value in param_state.items()}
        param_groups = [{**saved, "params": group["params"]} for saved, group in zip(saved_groups, self.param_groups)]
        for group in param_groups:
            self._check_hyperparameters(group)
        self.state, self.param_groups = state, param_groups

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} parameters, {settings}")
        return "\n".join(lines + [")"])


def _state_value(value, param, what):
    """A fresh Tensor with param's dtype and device for an array-like state value (checked
    against param's shape); other values (the step count) as they are."""
    if not isinstance(value, (Tensor, numpy.ndarray)) and not hasattr(value, "__cuda_array_interface__"):
        return value  # the step count and other plain values
    array = value.array if isinstance(value, Tensor) else value
    if array.shape != param.shape:
        raise ValueError(f"{what} has shape {array.shape} but the parameter has shape {param.shape}")
    return tensor(array, dtype=param.dtype, device=param.device)  # a copy


def _checked_tensors(values, like, where, name, optional=False):
    """`values` as a list of Tensors (None allowed where `optional`), one of each shape of `like`."""
    if not isinstance(values, (list, tuple)) or len(values) != len(like):
        raise TypeError(f"{where}: {name} must be a list of {len(like)} Tensors (one per parameter of the "
                        f"optimizer), got {_described(values)}")
    for i, (value, model) in enumerate(zip(values, like)):
        if value is None and optional:
            continue
        if not isinstance(value, Tensor):
            raise TypeError(f"{where}: {name}[{i}] must be a Tensor{' or None' if optional else ''}, "
                            f"got {type(value).__name__}")
        if value.shape != model.shape:
            raise ValueError(f"{where}: {name}[{i}] has shape {tuple(value.shape)}, expected the shape of "
                             f"parameter {i}, {tuple(model.shape)}")
    return list(values)


def _described(value):
    return f"a {type(value).__name__} of {len(value)}" if isinstance(value, (list, tuple)) else type(value).__name__


def sqrt(x):
    """The square root the rules take: NumPy's (also on CuPy arrays) of an array, the
    differentiable op of a Tensor, so that every rule runs on both."""
    return tensor_sqrt(x) if isinstance(x, Tensor) else numpy.sqrt(x)


def maximum(a, b):
    """Elementwise max, for arrays (NumPy's, also on CuPy arrays) and Tensors (differentiable) alike."""
    return tensor_maximum(a, b) if isinstance(a, Tensor) else numpy.maximum(a, b)


def check_non_negative(optimizer, group, *names):
    for name in names:
        if not group[name] >= 0:
            raise ValueError(f"{optimizer}: {name} must be >= 0, got {group[name]}")


def check_fraction(optimizer, name, value):
    """A decay rate: in [0, 1)."""
    if not 0 <= value < 1:
        raise ValueError(f"{optimizer}: {name} must be in [0, 1), got {value}")
