"""The five roles of access.md, the areas each may see or act on, and the dashboard's pages.

An *area* is a kind of data or action. Every read function of ``pipelines.read`` names the
area it serves and refuses a scope whose role lacks it (:meth:`Scope.need`); a page names the
area it shows (``PAGES``), and the dashboard answers 无权访问 before running a page the role
may not see.
"""

from __future__ import annotations

__all__ = ["ROLES", "ROLE_LABELS", "AREAS", "ROLE_AREAS", "PAGES", "allowed", "pages_for"]

ROLES = ("admin", "leader", "auditor", "evaluator", "clerk")
ROLE_LABELS = {"admin": "管理员", "leader": "州领导小组", "auditor": "州审计局", "evaluator": "评估人员",
               "clerk": "县市填报员", "operator": "命令行操作员", "anonymous": "未登录"}

#: area -> what it covers (in Chinese, for the 用户管理 page's role table)
AREAS = {
    "progress": "进度(县市填报员仅本县市)",
    "scores": "年度体检与两年评估得分(县市填报员仅本县市已发布的得分)",
    "signal_counts": "各县市、各规则的风险线索条数",
    "bulletin": "月度通报(全州各县市的进度排名与分档)及其下载",
    "signals": "风险线索清单、证据、核查结论与历史",
    "verdict": "给出核查结论、复核另一名审计人员的结论",
    "submissions": "报送情况与上报记录(县市填报员仅本县市)",
    "upload": "上传本县市的工作簿",
    "quality": "数据质量:校验结果、隔离行、拒收文件(县市填报员仅本县市)",
    "data_docs": "Great Expectations 数据文档(全州)",
    "reports": "生成和下载年度报告",
    "export_progress": "导出进度",
    "export_scores": "导出得分 scores.csv",
    "export_signals": "导出风险线索与案卷",
    "action_log": "查看和导出操作日志",
    "users": "用户管理",
    "settings": "系统设置(阈值、评分方案)、发布得分",
}

# access.md's table. The admin sees everything and may also download what it sees; only
# auditors record verdicts; only clerks upload (the operator imports from the command line).
ROLE_AREAS: dict[str, frozenset[str]] = {
    "admin": frozenset(AREAS) - {"verdict", "upload"},
    "leader": frozenset({"progress", "bulletin", "scores", "signal_counts", "export_progress", "export_scores"}),
    "auditor": frozenset({"progress", "bulletin", "scores", "signal_counts", "signals", "verdict", "submissions", "quality",
                          "data_docs", "export_signals", "action_log"}),
    "evaluator": frozenset({"progress", "bulletin", "scores", "quality", "data_docs", "reports", "export_scores"}),
    "clerk": frozenset({"progress", "scores", "submissions", "upload", "quality"}),
}

#: url path -> (title, the area the page shows); the order is the menu's
PAGES = {
    "progress": ("进度总览", "progress"),
    "bulletin": ("月度通报", "bulletin"),
    "signal_counts": ("线索统计", "signal_counts"),
    "risk": ("风险线索", "signals"),
    "annual": ("年度体检", "scores"),
    "biennial": ("两年评估", "scores"),
    "upload": ("数据上报", "submissions"),
    "quality": ("数据质量", "quality"),
    "action_log": ("操作日志", "action_log"),
    "users": ("用户管理", "users"),
}


def allowed(role: str | None, area: str) -> bool:
    """Whether ``role`` may see or do ``area``."""
    if area not in AREAS:
        raise KeyError(area)
    return role in ROLE_AREAS and area in ROLE_AREAS[role]


def pages_for(role: str | None) -> list[str]:
    """The url paths of the pages ``role`` may open, in menu order."""
    return [p for p, (_, area) in PAGES.items() if allowed(role, area)]
