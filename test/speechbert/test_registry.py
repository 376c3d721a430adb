"""``speechbert.registry``: named components with a ``<kind>_conf`` mapping from a config dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from speechbert.command_line import get_base_parser
from speechbert.errors import ConfigError
from speechbert.registry import Registry, dump_conf_mapping, parse_conf_mapping


@dataclass(frozen=True)
class PoolConf:
    size: int = 2
    scale: float = 1.0
    learn: bool = False
    mode: str = "mean"
    drop: int | None = None
    weights: list[float] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ConfigError(f"size must be >= 1, got {self.size}")


@dataclass(frozen=True)
class NoConf:
    pass


def make_registry() -> Registry:
    reg = Registry("pooler", description="the word pooler")

    @reg.register("pool", PoolConf)
    def build_pool(conf: PoolConf, **kw):
        """Pools frames."""
        return ("pool", conf, kw)

    @reg.register("none", NoConf)
    def build_none(conf: NoConf, **kw):
        return ("none", conf, kw)

    return reg


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown pooler 'max' \(known: pool, none\)"):
        make_registry().build("max")


def test_unknown_key_names_it_and_the_options():
    with pytest.raises(ConfigError, match=r"pooler_conf: unknown option 'sise' for pooler 'pool' \(its options: "
                                          r"size, scale, learn, mode, drop, weights, extra\)"):
        make_registry().make_conf("pool", {"sise": 3})


def test_strings_are_converted_to_the_field_types():
    conf = make_registry().make_conf("pool", {"size": "3", "scale": "1e-5", "learn": "yes", "mode": 7,
                                              "drop": "none", "weights": "0.5,1.5", "extra": "{a: 1}"})
    assert conf == PoolConf(size=3, scale=1e-5, learn=True, mode="7", drop=None, weights=[0.5, 1.5],
                            extra={"a": 1})
    assert make_registry().make_conf("pool", {"drop": "4", "weights": "[1, 2]", "size": 4.0}).drop == 4
    for values, match in [({"size": "three"}, r"pooler_conf 'size' of pooler 'pool': expected an integer"),
                          ({"learn": "maybe"}, "expected a boolean"), ({"scale": True}, "expected a number"),
                          ({"size": 0}, "pooler_conf of pooler 'pool': size must be >= 1"),
                          ({"extra": "[1]"}, r"pooler_conf 'extra' .*expected a mapping")]:
        with pytest.raises(ConfigError, match=match):
            make_registry().make_conf("pool", values)


def test_build_passes_the_conf_and_runtime_arguments():
    name, conf, kw = make_registry().build("pool", {"size": 5}, device="cpu")
    assert (name, conf.size, kw) == ("pool", 5, {"device": "cpu"})
    assert make_registry().conf_to_dict(PoolConf(weights=[1.0])) == {
        "size": 2, "scale": 1.0, "learn": False, "mode": "mean", "drop": None, "weights": [1.0], "extra": {}}


def _parser(reg: Registry):
    parser = get_base_parser("test tool", prog="tool")
    reg.add_arguments(parser)
    return parser


def test_yaml_nested_mapping_through_a_real_parser(tmp_path):
    reg = make_registry()
    conf = tmp_path / "c.yaml"
    conf.write_text("pooler: pool\npooler_conf:\n  size: 4\n  scale: '1e-5'\n  drop: null\n  weights: [1, 2]\n")
    args = _parser(reg).parse_args(["--config", str(conf)])
    assert args.pooler == "pool" and args.pooler_conf == {"size": 4, "scale": "1e-5", "drop": None,
                                                           "weights": [1, 2]}
    built = reg.conf_from_args(args)
    assert (built.size, built.scale, built.drop, built.weights) == (4, 1e-5, None, [1.0, 2.0])
    # the command line replaces the YAML mapping as a whole
    args = _parser(reg).parse_args(["--config", str(conf), "--pooler_conf", "{size: 7}"])
    assert reg.from_args(args)[1] == PoolConf(size=7)
    assert dump_conf_mapping({"size": 7, "drop": None}) == '{"size": 7, "drop": null}'
    assert parse_conf_mapping(dump_conf_mapping({"size": 7, "drop": None})) == {"size": 7, "drop": None}


def test_a_mapping_for_another_option_is_still_an_error(tmp_path, capsys):
    conf = tmp_path / "c.yaml"
    conf.write_text("pooler: {size: 4}\n")
    with pytest.raises(ConfigError, match="option 'pooler' is a mapping"):
        _parser(make_registry()).parse_args(["--config", str(conf)])


def test_bad_name_or_mapping_on_the_command_line_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        _parser(make_registry()).parse_args(["--pooler", "max"])
    assert "invalid choice: 'max'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser(make_registry()).parse_args(["--pooler_conf", "[1, 2]"])
    assert "expected a mapping" in capsys.readouterr().err


def test_help_lists_every_components_options(capsys):
    with pytest.raises(SystemExit):
        _parser(make_registry()).parse_args(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "pool (Pools frames.): size: int = 2; scale: float = 1.0; learn: bool = False" in out
    assert "drop: int | None = None" in out and "weights: list[float] = []" in out
    assert "none: no options" in out


def test_builtin_modules_register_on_first_use():
    from speechbert.audio.frontends import FRONTENDS

    assert FRONTENDS.names()[:3] == ["fbank", "mfcc", "ssl"]
    assert "num_mel_bins" in FRONTENDS.option_names("fbank") and "checkpoint" in FRONTENDS.option_names("ssl")


def test_registering_a_name_twice_is_refused():
    reg = make_registry()
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("pool", PoolConf)(lambda conf: None)
    with pytest.raises(TypeError, match="not a dataclass"):
        reg.register("x", dict)
