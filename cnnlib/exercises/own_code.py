"""Is a function exercise the learner's own code, or a call of cnnlib's reference or a PyTorch op?

    assert_own_code(output_size, allowed=["cnnlib.shapes.conv_output_size"], namespace=globals())

A checker compares the learner's function with cnnlib's on many cases, so ``output_size =
conv_output_size`` (or a function whose body calls it) passes every case. The hidden tests of the
nbgrader and otter-grader exports (``tools/export_nbgrader.py``, ``tools/export_otter.py``) add this
check: the function is a plain Python function defined in the notebook, and neither it nor any
notebook function it calls uses a callable or a module from cnnlib or torch, except those the worked
solution uses (``allowed``, dotted import paths such as ``"cnnlib.shapes.conv_output_size"``).

What is read, without running the function: the global names its bytecode loads (nested functions
and lambdas included), the modules it imports, its default arguments and closure cells. Arrays,
tensors and numbers are data, not code, and are always allowed; so is NumPy. Names that look objects
up by string (``__import__``, ``eval``, ``exec``, ``compile``, ``importlib``, ``sys``, ``builtins``)
count as used code too, since they could reach anything.
"""
from __future__ import annotations

import builtins
import dis
import functools
import importlib
import types
from typing import Iterable

FORBIDDEN_ROOTS = ("cnnlib", "torch")
DYNAMIC = frozenset({"__import__", "eval", "exec", "compile", "importlib", "sys", "builtins"})


def _resolve(dotted: str):
    """``"cnnlib.shapes.conv_output_size"`` -> the object (a module, or an attribute of one)."""
    module, _, attr = dotted.rpartition(".")
    try:
        return importlib.import_module(dotted)
    except ImportError:
        return getattr(importlib.import_module(module), attr)


def _origin(obj) -> str:
    """The module an object comes from: a module's own name, else its ``__module__`` (or its type's)."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return getattr(obj, "__module__", None) or getattr(type(obj), "__module__", "") or ""


def _forbidden(obj) -> bool:
    if not (isinstance(obj, types.ModuleType) or callable(obj)):
        return False  # data: an array, a tensor, a number
    return _origin(obj).split(".")[0] in FORBIDDEN_ROOTS


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _names_and_imports(fn: types.FunctionType) -> tuple[set[str], set[str]]:
    names, imports = set(), set()
    for code in _code_objects(fn.__code__):
        for ins in dis.get_instructions(code):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                names.add(ins.argval)
            elif ins.opname == "IMPORT_NAME":
                imports.add(ins.argval)
    return names, imports


def borrowed_code(fn, allowed: Iterable[str] = (), namespace: dict | None = None) -> list[str]:
    """What in ``fn`` is not the learner's own code: a list of sentences, empty when it is all theirs.

    ``namespace`` (the notebook's ``globals()``), when given, must be the one ``fn`` was defined in.
    """
    allowed_objects = [_resolve(a) for a in allowed]
    if not isinstance(fn, types.FunctionType):
        return [f"{getattr(fn, '__name__', type(fn).__name__)} is not a function written with def or lambda "
                f"(it is a {type(fn).__name__} from {_origin(fn) or 'elsewhere'})"]
    if _forbidden(fn):
        return [f"{fn.__name__} is {_origin(fn)}'s, not yours"]
    if namespace is not None and fn.__globals__ is not namespace:
        return [f"{fn.__name__} was not defined in this notebook (it comes from {fn.__module__})"]
    found: list[str] = []
    seen: set[int] = set()

    def visit(f: types.FunctionType) -> None:
        if id(f) in seen:
            return
        seen.add(id(f))
        names, imports = _names_and_imports(f)
        for module in sorted(imports):
            if module.split(".")[0] in FORBIDDEN_ROOTS and not any(
                    isinstance(a, types.ModuleType) and a.__name__ == module for a in allowed_objects):
                found.append(f"{f.__name__} imports {module}")
        values = [(n, f.__globals__[n]) for n in sorted(names) if n in f.__globals__]
        values += [(n, getattr(builtins, n)) for n in sorted(names & DYNAMIC) if n not in f.__globals__]
        values += [(f"default of {f.__name__}", v) for v in (f.__defaults__ or ())]
        values += [(f"default of {f.__name__}", v) for v in (f.__kwdefaults__ or {}).values()]
        for name, cell in zip(f.__code__.co_freevars, f.__closure__ or ()):
            try:
                values.append((name, cell.cell_contents))
            except ValueError:  # an empty cell: a name assigned later
                pass
        for name, value in values:
            if name in DYNAMIC or (isinstance(value, types.ModuleType) and value.__name__ in DYNAMIC):
                found.append(f"{f.__name__} uses {name}, which can reach any function by its name")
            elif _forbidden(value) and not any(value is a for a in allowed_objects):
                found.append(f"{f.__name__} uses {name} ({_origin(value)})")
            elif isinstance(value, types.FunctionType) and value.__globals__ is f.__globals__:
                visit(value)  # a helper defined in the same notebook: its calls count too

    visit(fn)
    return found


def _whose(obj) -> str:
    root = _origin(obj).split(".")[0]
    return {"cnnlib": "cnnlib's", "torch": "PyTorch's"}.get(root, root + "'s")


def _dotted(obj, name: str) -> str:
    origin = _origin(obj)
    attr = getattr(obj, "__name__", None) if not isinstance(obj, types.ModuleType) else None
    return f"{origin}.{attr}" if isinstance(attr, str) and origin and not origin.endswith("." + attr) else origin or name


def _attributes_of(fn: types.FunctionType, name: str) -> list[str]:
    """The dotted names ``fn`` reaches through the global ``name`` (``torch.relu``, ``F.conv2d``), in order."""
    chains: list[str] = []
    for code in _code_objects(fn.__code__):
        chain: list[str] = []
        for ins in [*dis.get_instructions(code), None]:
            if chain and ins is not None and ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                chain.append(ins.argval)
                continue
            if len(chain) > 1 and ".".join(chain) not in chains:
                chains.append(".".join(chain))
            chain = [name] if ins is not None and ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and ins.argval == name else []
    return chains


def _name_of(obj) -> str:
    """The dotted path an object is imported by ("torch.relu", "cnnlib.shapes.conv_output_size", "torch")."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return _dotted(obj, "")


def shortcut_findings(fn) -> list[tuple[str, str]]:
    """What ``fn`` takes from cnnlib or PyTorch: (a sentence, the dotted name of what it uses) pairs.

    Plain data (strings), so that the grader's sandbox can send them back (cnnlib.grading.child); see
    :func:`shortcuts`, which also leaves out what an exercise allows.
    """
    while isinstance(fn, functools.partial):
        for value in (*fn.args, *fn.keywords.values()):
            if _forbidden(value):
                return [(f"it passes {_whose(value)} {getattr(value, '__name__', value)!s:.60} "
                         f"({_dotted(value, '')})", _name_of(value))]
        fn = fn.func
    if _forbidden(fn):
        return [(f"{getattr(fn, '__name__', 'it')} is {_whose(fn)} own function ({_dotted(fn, '')}), not yours",
                 _name_of(fn))]
    if not isinstance(fn, types.FunctionType):
        return []
    found: list[tuple[str, str]] = []
    seen: set[int] = set()

    def visit(f: types.FunctionType) -> None:
        if id(f) in seen:
            return
        seen.add(id(f))
        names, imports = _names_and_imports(f)
        for module in sorted(imports):
            if module.split(".")[0] in FORBIDDEN_ROOTS:
                found.append((f"{f.__name__} imports {module}", module))
        values = [(n, f.__globals__[n]) for n in sorted(names) if n in f.__globals__]
        values += [(f"a default of {f.__name__}", v) for v in (f.__defaults__ or ())]
        values += [(f"a default of {f.__name__}", v) for v in (f.__kwdefaults__ or {}).values()]
        for name, cell in zip(f.__code__.co_freevars, f.__closure__ or ()):
            try:
                values.append((name, cell.cell_contents))
            except ValueError:  # an empty cell: a name assigned later
                pass
        for name, value in values:
            if _forbidden(value):
                reached = _attributes_of(f, name) if isinstance(value, types.ModuleType) else []
                if reached:
                    sentence = (f"{f.__name__} calls {_whose(value)} {', '.join(reached[:4])}"
                                + (f" ({name} is {value.__name__})" if name != value.__name__ else ""))
                else:
                    what = "uses" if isinstance(value, types.ModuleType) else "calls"
                    sentence = f"{f.__name__} {what} {_whose(value)} {name} ({_dotted(value, name)})"
                found.append((sentence, _name_of(value)))
            elif isinstance(value, types.FunctionType) and value.__globals__ is f.__globals__:
                visit(value)  # a helper written beside it: its calls count too

    visit(fn)
    return found


def allowed_only(findings, allowed: Iterable[str] = ()) -> list[str]:
    """The sentences of ``findings`` (from :func:`shortcut_findings`) whose object ``allowed`` does not name."""
    allowed_objects = [_resolve(a) for a in allowed]

    def ok(name: str) -> bool:
        try:
            obj = _resolve(name)
        except Exception:  # noqa: BLE001 - a name that does not resolve here is not one the exercise allows
            return False
        return any(obj is a for a in allowed_objects)

    return [sentence for sentence, name in findings if not ok(str(name))]


def shortcuts(fn, allowed: Iterable[str] = ()) -> list[str]:
    """What ``fn`` takes from cnnlib or PyTorch, as sentences ("relu_forward calls cnnlib's relu
    (cnnlib.numpy_nn.activation.relu)"); empty when it is the learner's own code (NumPy is fine).

    The check behind ``check_function``'s shortcut verdict: unlike :func:`borrowed_code` it judges only
    cnnlib and torch (a NumPy ufunc such as ``np.abs`` given as the answer, or code that uses ``sys``,
    is the checker's cases' business), it does not need the notebook's namespace, and it looks inside
    ``functools.partial``. ``allowed``: dotted names the exercise lets the learner use.
    """
    return allowed_only(shortcut_findings(fn), allowed)


def assert_own_code(fn, allowed: Iterable[str] = (), namespace: dict | None = None) -> None:
    """Raise ``AssertionError`` naming what ``fn`` borrows from cnnlib or torch (see :func:`borrowed_code`)."""
    found = borrowed_code(fn, allowed, namespace)
    if found:
        allowed = list(allowed)
        raise AssertionError("this exercise must be your own code, not cnnlib's or PyTorch's: " + "; ".join(found)
                             + (f" (allowed here: {', '.join(allowed)})" if allowed else ""))


__all__ = ["assert_own_code", "borrowed_code", "shortcuts", "shortcut_findings", "allowed_only", "FORBIDDEN_ROOTS"]
