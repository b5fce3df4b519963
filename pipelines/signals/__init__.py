"""Audit signals (flags.md): the rules and thresholds (:mod:`.rules`), the refresh step that computes
them into ``marts.signals`` with coverage and risk (:mod:`.engine`), the auditors' verdicts
(:mod:`.verdicts`) and ``renovation flags`` (:mod:`.flags`)."""

from pipelines.signals.engine import DOWNSTREAM_MODELS, MODELS, RULE_MODELS, refresh
from pipelines.signals.rules import (
    RULES, THRESHOLDS_TOML, config_version, describe_rule, load_config, rule_thresholds, threshold_rows,
    thresholds_text,
)
from pipelines.signals.verdicts import VERDICTS, review_verdict, set_verdict

__all__ = ["DOWNSTREAM_MODELS", "MODELS", "RULES", "RULE_MODELS", "THRESHOLDS_TOML", "VERDICTS", "config_version",
           "describe_rule", "load_config", "refresh", "rule_thresholds", "set_verdict", "threshold_rows",
           "thresholds_text"]
