"""Assessment instruments as data: checking a definition and scoring answers against it. No Django here.

A definition (the JSON kept in ``InstrumentVersion.definition``) has level-1 ``indicators``, each with level-2
``children``, each with scored ``items``; every item has ``options`` (value, label, score, optional ``veto``).
``cutoffs`` map the share of the maximum score to a result; ``results`` list the result codes from least to most
serious. A veto option forces at least its result whatever the total (a child left alone is 监护缺失 even if the
rest of the form scores well).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class InstrumentError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IndicatorScore:
    id: str
    label: str
    parent_label: str
    score: int
    max_score: int


@dataclass(frozen=True)
class Scored:
    total: int
    max_total: int
    percent: int
    result: str
    result_label: str
    advice: str
    vetoes: list[dict[str, str]] = field(default_factory=list)
    breakdown: list[IndicatorScore] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        text = f"得分{self.total}/{self.max_total}（{self.percent}%），评估结果：{self.result_label}"
        if self.vetoes:
            text += "；一票否决项：" + "、".join(f"{v['text']}（{v['answer']}）" for v in self.vetoes)
        return text


def _need(cond: object, message: str) -> None:
    if not cond:
        raise InstrumentError(message)


def items_of(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for ind in definition["indicators"] for sub in ind["children"] for item in sub["items"]]


def validate(definition: Any) -> dict[str, Any]:
    """Check a definition's shape; return it. Messages are Chinese: an administrator pastes this JSON."""
    _need(isinstance(definition, dict), "评估工具应为一个JSON对象")
    for key in ("indicators", "results", "cutoffs"):
        _need(isinstance(definition.get(key), list) and definition[key], f"评估工具缺少“{key}”列表")
    results = definition["results"]
    codes = []
    for r in results:
        _need(isinstance(r, dict) and isinstance(r.get("code"), str) and r.get("label"), "每个评估结果需有code和label")
        codes.append(r["code"])
    _need(len(set(codes)) == len(codes), "评估结果code不能重复")
    seen: set[str] = set()
    for ind in definition["indicators"]:
        _need(isinstance(ind, dict) and ind.get("id") and ind.get("label"), "一级指标需有id和label")
        _need(isinstance(ind.get("children"), list) and ind["children"], f"一级指标“{ind.get('label')}”没有二级指标")
        for sub in ind["children"]:
            _need(isinstance(sub, dict) and sub.get("id") and sub.get("label"), "二级指标需有id和label")
            _need(isinstance(sub.get("items"), list) and sub["items"], f"二级指标“{sub.get('label')}”没有题目")
            for item in sub["items"]:
                _need(isinstance(item, dict) and isinstance(item.get("id"), str), "每道题需有id")
                _need(item["id"] not in seen, f"题目id“{item['id']}”重复")
                seen.add(item["id"])
                _need(bool(item.get("text")), f"题目“{item['id']}”缺少题干text")
                options = item.get("options")
                _need(isinstance(options, list) and len(options) >= 2, f"题目“{item['id']}”至少需要两个选项")
                values = set()
                for opt in options:
                    _need(
                        isinstance(opt, dict) and isinstance(opt.get("value"), str) and opt.get("label"),
                        f"题目“{item['id']}”的选项需有文字value和label",
                    )
                    _need(
                        isinstance(opt.get("score"), int) and not isinstance(opt["score"], bool) and opt["score"] >= 0,
                        f"题目“{item['id']}”的选项分值应为非负整数",
                    )
                    _need(opt.get("veto") in (None, *codes), f"题目“{item['id']}”的一票否决结果不存在")
                    values.add(opt["value"])
                _need(len(values) == len(options), f"题目“{item['id']}”的选项value重复")
    previous = 101
    for cut in definition["cutoffs"]:
        _need(isinstance(cut, dict) and cut.get("result") in codes, "分界值中的结果不存在")
        value = cut.get("min_percent")
        _need(isinstance(value, int) and 0 <= value < previous, "分界值min_percent应从高到低排列，在0到100之间")
        previous = value
    _need(previous == 0, "最后一个分界值的min_percent应为0，使每个得分都有结果")
    _need(sum(max(o["score"] for o in i["options"]) for i in items_of(definition)) > 0, "评估工具满分不能为0")
    return definition


def score(definition: dict[str, Any], answers: dict[str, str]) -> Scored:
    """Score a complete set of answers (item id → option value). Refuses unanswered or unknown answers."""
    items = items_of(definition)
    known = {i["id"] for i in items}
    missing = [i["text"] for i in items if i["id"] not in answers]
    if missing:
        raise InstrumentError("还有题目未回答：" + "、".join(missing[:5]) + ("等" if len(missing) > 5 else ""))
    extra = sorted(set(answers) - known)
    if extra:
        raise InstrumentError("评估工具中没有这些题目：" + "、".join(extra))
    results = {r["code"]: r for r in definition["results"]}
    severity = {r["code"]: n for n, r in enumerate(definition["results"])}
    total = max_total = 0
    vetoes: list[dict[str, str]] = []
    breakdown: list[IndicatorScore] = []
    for ind in definition["indicators"]:
        for sub in ind["children"]:
            sub_score = sub_max = 0
            for item in sub["items"]:
                options = {o["value"]: o for o in item["options"]}
                chosen = options.get(answers[item["id"]])
                if chosen is None:
                    raise InstrumentError(f"“{item['text']}”的答案无效")
                sub_score += int(chosen["score"])
                sub_max += max(int(o["score"]) for o in item["options"])
                if chosen.get("veto"):
                    vetoes.append(
                        {"item": item["id"], "text": item["text"], "answer": chosen["label"], "result": chosen["veto"]}
                    )
            breakdown.append(IndicatorScore(sub["id"], sub["label"], ind["label"], sub_score, sub_max))
            total += sub_score
            max_total += sub_max
    # Floor, not round: 79.6% has not reached the 80% of 监护正常.
    percent = 100 * total // max_total
    result = next(c["result"] for c in definition["cutoffs"] if percent >= c["min_percent"])
    for veto in vetoes:
        if severity[veto["result"]] > severity[result]:
            result = veto["result"]
    chosen_result = results[result]
    return Scored(
        total=total,
        max_total=max_total,
        percent=percent,
        result=result,
        result_label=chosen_result["label"],
        advice=str(chosen_result.get("advice", "")),
        vetoes=vetoes,
        breakdown=breakdown,
    )
