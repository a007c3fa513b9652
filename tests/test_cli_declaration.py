"""Every subcommand's options come from one declaration: its options class.

The parser of each subcommand is built from it and nothing else, its --help shows each
declared option with the default the command really uses, its config file takes exactly
the declared keys, and no command reads an option by a string (read with ``ast``).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from backprop.cli import entry
from backprop.cli.option_kinds import REQUIRED, show
from backprop.cli.options import Handler, Option, Options
from backprop.lab.capacity import DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_CLIENT

CLI = Path(__file__).resolve().parents[1] / "src" / "backprop" / "cli"
#: The module that builds parsers from declarations; the top-level parser's own module.
MECHANISM, TOP_LEVEL = "options.py", "entry.py"
#: The fewest words each subcommand parses (its required arguments).
WORDS = {"train": ["xor"], "diagnose": ["xor"], "evaluate": ["m.npz", "xor"],
         "predict": ["m.npz", "in.csv"], "export": ["m.npz", "--format", "onnx"],
         "sweep": ["s.toml"]}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = entry.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


SUBCOMMANDS = subcommands()


def declared(name: str) -> type[Options]:
    handler = SUBCOMMANDS[name].get_default("run")
    assert isinstance(handler, Handler), f"{name}'s parser was not made by add_command"
    return handler.declared


def help_entries(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """{first option string: its help entry on one line} of the subcommand's --help."""
    monkeypatch.setenv("COLUMNS", "1000")
    entries: dict[str, str] = {}
    last = ""
    for line in SUBCOMMANDS[name].format_help().splitlines():
        if line.startswith("  -"):
            last = line.split()[0].rstrip(",")
            entries[last] = line.strip()
        elif line.startswith("   ") and last:
            entries[last] += " " + line.strip()
    return entries


def options_of(name: str) -> list[Option[Any]]:
    return [o for o in declared(name).declaration() if not o.positional]


def test_every_subcommand_is_declared() -> None:
    assert set(SUBCOMMANDS) == {"demo", "explain", "train", "diagnose", "evaluate", "predict",
                                "datasets", "bench", "gradcheck", "sweep", "export", "lab"}
    for name in SUBCOMMANDS:
        handler = SUBCOMMANDS[name].get_default("run")
        assert isinstance(handler, Handler)
        # the handler takes the typed object, annotated with its own class
        parameters = list(inspect.signature(handler.run).parameters.values())
        assert len(parameters) == 1 and parameters[0].annotation == handler.declared.__name__


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_the_parser_is_the_declaration(name: str) -> None:
    """Each argument of the parser is a declared field (same flags, same help), and each
    declared field is an argument; besides them only -h, --config and --debug."""
    declaration = {o.name: o for o in declared(name).declaration()}
    parser = SUBCOMMANDS[name]
    extra = {"help", "debug", *(("config",) if options_of(name) else ())}
    seen = set()
    for action in parser._actions:
        if action.dest in extra:
            seen.add(action.dest)
            continue
        o = declaration[action.dest]
        expected = [] if o.positional else [o.flag, *o.aliases]
        assert action.option_strings == expected, (name, action.dest)
        assert action.help == o.help_text(), (name, action.dest)
        seen.add(action.dest)
    assert seen == set(declaration) | extra


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_help_shows_every_option_with_the_default_used(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = help_entries(name, monkeypatch)
    values = declared(name).from_args(
        entry.build_parser().parse_args([name, *WORDS.get(name, [])])).values()
    for o in options_of(name):
        assert o.flag in entries, (name, o.flag)
        line = entries[o.flag]
        if o.default is REQUIRED:
            assert line.endswith("(required)"), line
            continue
        default = re.search(r"\(default: (?:\w+ = )?(.*?)(?:; mnist: .*)?\)$", line)
        assert default is not None, line
        if o.shown is not None:  # a default the help describes ("runs/DATASET")
            assert default.group(1) == o.shown
        else:
            assert default.group(1) == show(values[o.name]), (name, o.name, line)


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_declared_default_is_a_value_of_its_kind(name: str) -> None:
    """A default goes through its own kind and check unchanged (so the help's default is
    one the user could have typed), and so does each per-dataset default."""
    for o in declared(name).declaration():
        for default in (o.default, *o.per_dataset.values()):
            if default is None or default is REQUIRED or callable(default):
                continue
            assert o.convert(default, o.flag) == default, (name, o.name)


@pytest.mark.parametrize("name", sorted(n for n in SUBCOMMANDS if options_of(n)))
def test_a_config_file_takes_exactly_the_declared_keys(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("frobnicate = 1\n")
    assert entry.main([name, *WORDS.get(name, []), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("backprop: error: "), err
    keys = err.split("valid keys: ")[1].strip().split(", ")
    assert keys == [o.name.replace("_", "-") for o in options_of(name)]


def test_config_values_reach_each_command(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('format = "onnx"\nout = "m.x"\n')  # export's required --format
    args = entry.build_parser().parse_args(["export", "m.npz", "--config", str(config)])
    o = declared("export").from_args(args)
    assert (o.values(), o.given) == ({"model": "m.npz", "format": "onnx", "out": "m.x"},
                                     {"format", "out"})
    config.write_text('port = 0\nidle-timeout = 5\nopen = true\nimports = ["mine"]\n'
                      'course-url = "https://example.org/backprop"\n')
    o = declared("lab").from_args(entry.build_parser().parse_args(["lab", "--config",
                                                                   str(config)]))
    assert o.values() == {"host": "127.0.0.1", "port": 0, "open": True, "idle_timeout": 5.0,
                          "course_url": "https://example.org/backprop", "imports": ["mine"],
                          "allow_origins": [], "require_token": False,
                          "max_sessions": DEFAULT_MAX_SESSIONS,
                          "max_sessions_per_client": DEFAULT_MAX_SESSIONS_PER_CLIENT}


@pytest.mark.parametrize(("argv", "message"), [
    (["export", "m.npz"], "--format is required"),
    (["sweep", "s.toml", "--serial", "--workers", "2"], "--serial does not go with --workers"),
    (["sweep", "s.toml", "--workers", "0"], "--workers must be at least 1, got 0"),
    (["datasets", "frob"], "action: unknown value 'frob'; valid: list, fetch"),
    (["demo", "--seed", "-1"], "--seed must be at least 0, got -1"),
    (["explain", "--format", "pdf"],
     "--format: unknown value 'pdf'; valid: text, markdown, json"),
])
def test_declared_checks_are_one_line(argv: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(argv) == 2
    assert capsys.readouterr().err == f"backprop: error: {message}\n"


# -- the source, read with ast ----------------------------------------------------------------
def modules() -> list[Path]:
    return sorted(CLI.glob("*.py"))


def _calls(tree: ast.AST, method: str) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == method]


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_no_parser_argument_outside_the_declaration(path: Path) -> None:
    """Only the mechanism adds arguments to a parser; the top-level parser adds its own
    --version and --debug, and nothing else."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [call for method in ("add_argument", "add_mutually_exclusive_group",
                                 "add_argument_group") for call in _calls(tree, method)]
    if path.name == MECHANISM:
        return
    if path.name == TOP_LEVEL:
        flags = [ast.literal_eval(call.args[0]) for call in calls]
        assert flags == ["--version", "--debug"]
        return
    assert not calls, f"{path.name}:{calls[0].lineno} adds a parser argument by hand"


def _annotation(node: ast.arg) -> str:
    return ast.unparse(node.annotation) if node.annotation is not None else ""


def _options_names(function: ast.FunctionDef) -> set[str]:
    """The function's parameters that hold a command's options: annotated with an options
    class (a name ending in Options), or named o or opts."""
    arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
    return {a.arg for a in arguments
            if _annotation(a).strip("'\"").endswith("Options") or a.arg in ("o", "opts")}


def string_lookups(source: str) -> list[str]:
    """Where options are read by a string: ``o["lr"]``, ``o.get("lr")``,
    ``getattr(o, "lr")``, ``vars(o)`` on a parameter holding options; a parameter named
    o or opts that is not annotated with an options class; a parameter that takes an
    argparse Namespace (a handler takes its typed options)."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        parameters = [*function.args.posonlyargs, *function.args.args,
                      *function.args.kwonlyargs]
        for a in parameters:
            if "Namespace" in _annotation(a):
                found.append(f"{function.name}: {a.arg} is an argparse Namespace")
            if a.arg in ("o", "opts") and not _annotation(a).strip("'\"").endswith("Options"):
                found.append(f"{function.name}: {a.arg}: {_annotation(a) or 'unannotated'}")
        names = _options_names(function)  # type: ignore[arg-type]
        for node in ast.walk(function):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                    and node.value.id in names:
                found.append(f"{function.name}: {ast.unparse(node)}")
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "get" \
                        and isinstance(func.value, ast.Name) and func.value.id in names:
                    found.append(f"{function.name}: {ast.unparse(node)}")
                if isinstance(func, ast.Name) and func.id in ("getattr", "vars") and node.args \
                        and isinstance(node.args[0], ast.Name) and node.args[0].id in names:
                    found.append(f"{function.name}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", [p for p in modules() if p.name not in (MECHANISM, TOP_LEVEL)],
                         ids=lambda p: p.name)
def test_no_command_reads_an_option_by_a_string(path: Path) -> None:
    assert string_lookups(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source", [
    'def run(o: dict[str, Any]) -> int:\n    return o["epochs"]\n',
    'def run(o: TrainOptions) -> int:\n    return o["epochs"]\n',
    'def run(o: TrainOptions) -> int:\n    return o.get("freeze_biases", False)\n',
    'def build(opts: "DiagnoseOptions") -> int:\n    return getattr(opts, "lr")\n',
    'def run(args: argparse.Namespace) -> int:\n    return args.epochs\n',
])
def test_the_string_lookup_rule_catches_the_old_forms(source: str) -> None:
    assert string_lookups(source)


def test_the_string_lookup_rule_passes_attribute_access() -> None:
    assert string_lookups('def run(o: TrainOptions) -> int:\n    return o.epochs\n') == []


def test_train_only_keys_are_refused_by_diagnose(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """diagnose fixes the train options it does not offer: not on its command line, not
    in its config file (its networks have no batch norm but --compare batch-norm's)."""
    config = tmp_path / "c.toml"
    config.write_text("batch-norm = true\n")
    assert entry.main(["diagnose", "xor", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"backprop: error: {config}: unknown key 'batch-norm'; valid keys: ")
    assert err.count("\n") == 1
    with pytest.raises(SystemExit):
        entry.build_parser().parse_args(["diagnose", "xor", "--batch-norm"])
    o = declared("diagnose").from_args(entry.build_parser().parse_args(["diagnose", "xor"]))
    assert (o.batch_norm, o.freeze_biases, o.compiled_step) == (False, False, False)
