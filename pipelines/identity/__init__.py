"""The one identity engine: which rows denote the same community (input-formats.md, Resubmission
and identity; flags.md, "the same community").

* :mod:`~pipelines.identity.normalise` — one normaliser of names and addresses (NFKC, OpenCC
  traditional → simplified, numerals, prefixes, abbreviations of names.toml), recording each step;
* :mod:`~pipelines.identity.compare` — one comparison, field by field, with the levels and
  thresholds of thresholds.toml ``[identity]`` and the reason in Chinese;
* :mod:`~pipelines.identity.blocking` — which pairs are compared (no all-pairs work);
* :mod:`~pipelines.identity.links` — the refresh step writing ``core.identity_links`` (plan → ledger,
  report → plan, plan ↔ plan) and ``core.identity_entities``, read by every rule, page and export.
"""

from pipelines.identity.compare import Comparison, compare_names, plan_ledger, plan_plan, report_plan
from pipelines.identity.links import refresh, refresh_reports
from pipelines.identity.normalise import parse_address, parse_name
from pipelines.identity.settings import Settings, load_settings

__all__ = ["refresh", "refresh_reports", "Settings", "load_settings", "parse_name", "parse_address", "compare_names", "plan_ledger",
           "report_plan", "plan_plan", "Comparison"]
