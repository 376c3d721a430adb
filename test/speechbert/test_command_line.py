"""Tests for speechbert.command_line: the shared command-line scaffolding."""

import logging

import pytest

from speechbert import command_line as cli
from speechbert.errors import DataError


def _parser():
    p = cli.get_base_parser("test tool", prog="tool")
    p.add_argument("--batch_size", type=int, default=3)
    p.add_argument("--use_x", type=cli.str2bool, default=False)
    return p


def test_underscore_and_dash_spellings(tmp_path):
    p = _parser()
    assert p.parse_args(["--batch_size", "5"]).batch_size == 5
    assert p.parse_args(["--batch-size", "6"]).batch_size == 6


def test_yaml_config_and_cli_precedence(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("batch_size: 7\nuse_x: true\n")
    args = _parser().parse_args(["--config", str(conf)])
    assert (args.batch_size, args.use_x) == (7, True)
    args = _parser().parse_args(["--config", str(conf), "--batch_size", "9"])
    assert args.batch_size == 9


def test_unknown_config_key_is_named(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("batch_size: 7\nbatch_sise: 8\n")
    code = cli.run_main(lambda a: 0, _parser(), ["--config", str(conf)])
    assert code == 1


def test_unknown_config_key_message(tmp_path, capsys):
    conf = tmp_path / "c.yaml"
    conf.write_text("batch_sise: 8\n")
    cli.run_main(lambda a: 0, _parser(), ["--config", str(conf)])
    err = capsys.readouterr().err
    assert "unknown option 'batch_sise'" in err and str(conf) in err


def test_errors_become_one_line_and_exit_1(capsys):
    def main(args):
        raise DataError("bad value", "data/x/text", 3)

    assert cli.run_main(main, _parser(), []) == 1
    err = capsys.readouterr().err
    assert "tool: error: data/x/text:3: bad value" in err
    assert "Traceback" not in err


def test_unexpected_exception_writes_its_traceback_then_one_line(capsys):
    def main(args):
        raise KeyError("k")

    assert cli.run_main(main, _parser(), []) == 1
    err = capsys.readouterr().err.strip().splitlines()
    start = err.index("Traceback (most recent call last):")
    assert any("in main" in line for line in err[start:])  # where it broke, without a rerun
    assert err[-1] == "tool: error: KeyError: 'k' (an unexpected error: its traceback is above)"


def test_success_and_return_code():
    seen = {}

    def main(args):
        seen["bs"] = args.batch_size
        return 0

    assert cli.run_main(main, _parser(), ["--batch_size", "4", "--verbose", "0"]) == 0
    assert seen["bs"] == 4


def test_argparse_errors_exit_2():
    assert cli.run_main(lambda a: 0, _parser(), ["--nope"]) == 2


@pytest.mark.parametrize("text, value", [("true", True), ("No", False), ("1", True), ("off", False)])
def test_str2bool(text, value):
    assert cli.str2bool(text) is value


def test_str2bool_rejects_garbage():
    with pytest.raises(Exception):
        cli.str2bool("maybe")


def test_default_prog_is_the_calling_module():
    assert cli.get_base_parser("x").prog == "test_command_line"


def test_setup_logging_levels():
    cli.setup_logging(2)
    assert logging.getLogger().level == logging.DEBUG
    cli.setup_logging(1)
    assert logging.getLogger().level == logging.INFO


def test_a_bad_value_from_a_yaml_config_names_the_file(tmp_path, capsys):
    from speechbert.command_line import get_base_parser

    conf = tmp_path / "train.yaml"
    conf.write_text("lr: fast\n")
    parser = get_base_parser("test", prog="tool")
    parser.add_argument("--lr", type=float, default=0.1)
    with pytest.raises(SystemExit):
        parser.parse_args(["--config", str(conf)])
    err = capsys.readouterr().err
    assert "invalid float value: 'fast'" in err and f"the value of 'lr' in config file {conf}" in err
    with pytest.raises(SystemExit):  # given on the command line: no file to blame
        parser.parse_args(["--config", str(conf), "--lr", "slow"])
    assert "config file" not in capsys.readouterr().err
