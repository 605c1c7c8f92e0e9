"""Follow-ups resolved against the history, then answered."""
import pytest

from service.answer.conversation import resolve, topic_of

PLACES = ["粤海街道", "天水郡街道", "翠苑街道", "坦洲镇", "海珠区"]


def test_no_history_leaves_the_question_alone():
    assert resolve("坦洲镇办了多少宗？", [], PLACES).resolved == "坦洲镇办了多少宗？"


def test_place_with_a_question_shape_takes_the_earlier_topic():
    history = [{"question": "哪些地方推行简案快办？", "answer": "…"}]
    resolution = resolve("坦洲镇办了多少宗？", history, PLACES)
    assert "简案快办" in resolution.resolved and resolution.resolved.startswith("坦洲镇")


def test_elliptic_question_swaps_the_place():
    history = [{"question": "坦洲镇办了多少宗？", "resolved_question": "坦洲镇推行简案快办办了多少宗？", "answer": "…"}]
    assert resolve("翠苑街道呢？", history, PLACES).resolved == "翠苑街道推行简案快办办了多少宗？"
    assert resolve("那翠苑呢？", history, PLACES).resolved == "翠苑街道推行简案快办办了多少宗？"


def test_a_new_self_contained_question_is_not_rewritten():
    history = [{"question": "哪些地方推行简案快办？", "answer": "…"}]
    question = "海珠区建成了宪法主题公园吗？"
    assert resolve(question, history, PLACES).resolved == question


def test_topic_of_drops_places_and_which_phrases():
    assert topic_of("哪些地方推行简案快办？", PLACES) == "推行简案快办"
    assert topic_of("翠苑街道行政诉讼败诉率是多少？", PLACES) == "行政诉讼败诉率是多少"


DIALOGUES = [
    [("哪些地方推行简案快办？", None, "坦洲镇"), ("坦洲镇办了多少宗？", "37宗", "坦洲镇"), ("翠苑街道呢？", "16件", "翠苑街道")],
    [("翠苑街道行政诉讼败诉率是多少？", "57%", "翠苑街道"), ("行政复议呢？", "调撤率16%", "翠苑街道")],
    [("哪些地方推行“容缺受理”?", None, "坦洲镇"), ("粤海街道是怎么做的？", "容缺受理", "粤海街道")],
]


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=["简案快办", "败诉率", "容缺受理"])
def test_dialogues_over_the_api(client, dialogue):
    history = []
    for question, must_contain, issuer in dialogue:
        response = client.post("/api/ask", json={"question": question, "history": history})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert issuer in {g["issuer"] for g in body["groups"]}, body["resolved_question"]
        if must_contain:
            assert must_contain in body["answer"] or any(must_contain in c["quote"] for c in body["citations"]), body
        history.append({"question": question, "resolved_question": body["resolved_question"], "answer": body["answer"]})
