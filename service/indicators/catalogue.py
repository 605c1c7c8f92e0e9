"""The catalogue of indicators: each figure's topic, the words that bind a number to it, and its units."""
from __future__ import annotations

from dataclasses import dataclass

COUNT_CASES = ("件", "宗", "起", "份", "例")


@dataclass(frozen=True)
class Topic:
    """A subject several indicators share (行政复议), named by any of its terms."""

    name: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Indicator:
    """One figure: its topic, the measure words bound to the number in its clause, its kind and units."""

    name: str
    topic: Topic
    measures: tuple[str, ...]  # one of these must stand next to the number, in its clause
    kind: str  # count / rate / amount (service.answer.answer_types value kinds)
    units: tuple[str, ...]
    excluded: tuple[str, ...] = ()  # a clause with one of these (around the number) states a part, not the figure
    needs_topic: bool = True  # False when the measure names the topic itself (败诉率)

    def to_dict(self) -> dict:
        return {"name": self.name, "topic": self.topic.name, "kind": self.kind, "units": list(self.units),
                "measures": list(self.measures)}


REVIEW = Topic("行政复议", ("行政复议", "复议"))
LITIGATION = Topic("行政诉讼", ("行政诉讼", "诉讼", "应诉"))
NORMATIVE = Topic("规范性文件", ("规范性文件",))
LEGALITY = Topic("合法性审查", ("合法性审查", "法制审核", "合法性审核", "审查", "审核"))
ENFORCEMENT = Topic("行政执法", ("行政执法", "执法", "立案", "行政处罚", "处罚", "罚没"))
MEDIATION = Topic("人民调解", ("人民调解", "调委会", "调解委员会", "调解"))
LEGAL_AID = Topic("法律援助", ("法律援助",))
PUBLICITY = Topic("普法", ("普法", "法治宣传", "法制宣传", "法律宣传"))
DISCLOSURE = Topic("政府信息公开", ("政府信息公开", "信息公开", "政务公开", "主动公开", "依申请公开", "公开"))
PETITION = Topic("信访", ("信访", "12345", "热线"))

TOPICS = (REVIEW, LITIGATION, NORMATIVE, LEGALITY, ENFORCEMENT, MEDIATION, LEGAL_AID, PUBLICITY, DISCLOSURE, PETITION)

CATALOGUE: tuple[Indicator, ...] = (
    Indicator("行政复议收案", REVIEW, ("受理行政复议案件", "行政复议案件", "收案", "发案", "受理", "收到", "申请", "新收"),
              "count", COUNT_CASES, excluded=("调撤", "纠错", "结案", "办结", "审结")),
    Indicator("行政复议办结", REVIEW, ("结案数", "结案", "办结", "审结"), "count", COUNT_CASES),
    Indicator("行政复议纠错", REVIEW, ("纠错", "撤销", "确认违法"), "count", COUNT_CASES),
    Indicator("行政诉讼一审收案", LITIGATION, ("一审收案", "收案", "发案", "应诉案件", "一审案件", "受理"),
              "count", COUNT_CASES, excluded=("败诉", "结案", "出庭")),
    Indicator("行政诉讼败诉", LITIGATION, ("败诉案件", "败诉"), "count", COUNT_CASES),
    Indicator("行政诉讼败诉率", LITIGATION, ("败诉率",), "rate", ("%",), needs_topic=False),
    Indicator("负责人出庭应诉率", LITIGATION, ("出庭应诉率", "出庭率"), "rate", ("%",), needs_topic=False),
    Indicator("规范性文件制定", NORMATIVE, ("制定", "出台", "印发", "发布"), "count", ("件", "份", "个", "部")),
    Indicator("规范性文件备案审查", NORMATIVE, ("备案审查", "报备", "备案"), "count", ("件", "份", "个", "部")),
    Indicator("合法性审查·文件", LEGALITY, ("规范性文件", "文件"), "count", ("件", "份", "个"),
              excluded=("公平竞争",)),  # 公平竞争审查 clears policies; it is not the legality review
    Indicator("合法性审查·合同", LEGALITY, ("合同",), "count", ("件", "份", "个", "宗")),
    Indicator("合法性审查·重大决策", LEGALITY, ("重大行政决策", "重大决策"), "count", ("件", "项", "个", "份")),
    Indicator("行政执法案件", ENFORCEMENT, ("执法案件", "立案", "行政处罚案件", "处罚案件", "查处案件"),
              "count", COUNT_CASES, excluded=("非现场", "简易程序", "普通程序", "简案快办", "重大")),
    Indicator("罚没金额", ENFORCEMENT, ("处罚金额", "罚没金额", "罚没款", "罚款金额", "罚款", "罚没"), "amount", ("元",)),
    Indicator("人民调解受理", MEDIATION, ("人民调解案件数", "人民调解案件", "调解案件数", "纠纷案件", "调解纠纷",
                                   "受理纠纷", "受理"), "count", COUNT_CASES),
    Indicator("人民调解调结", MEDIATION, ("调结", "调处成功", "调解成功"), "count", COUNT_CASES),
    Indicator("人民调解成功率", MEDIATION, ("调解成功率", "成功率", "调结率"), "rate", ("%",)),
    Indicator("法律援助案件", LEGAL_AID, ("法律援助案件", "法律援助"), "count", COUNT_CASES),
    Indicator("普法活动场次", PUBLICITY, ("普法活动", "宣传活动", "活动"), "count", ("场", "场次", "次", "期")),
    Indicator("普法受众", PUBLICITY, ("服务群众", "受众", "覆盖群众", "惠及群众", "参与群众", "受教育群众"),
              "count", ("人", "人次")),
    Indicator("主动公开信息", DISCLOSURE, ("主动公开信息", "政府信息", "各类信息", "信息"), "count", ("条",)),
    Indicator("依申请公开", DISCLOSURE, ("信息公开申请件", "信息公开申请案件", "信息公开申请", "依申请公开申请",
                                   "申请件", "申请"), "count", COUNT_CASES),
    Indicator("信访及12345", PETITION, ("信访事项", "信访件", "转办案件", "工单", "来信来访", "信访"), "count",
              ("件", "宗", "件次", "批次", "人次"), excluded=("积案",)),
)


def indicator_named(name: str) -> Indicator | None:
    """The catalogue entry with this name, or None."""
    return next((indicator for indicator in CATALOGUE if indicator.name == name), None)
