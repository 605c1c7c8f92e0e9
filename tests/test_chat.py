"""Follow-ups resolved against the state folded over the whole history, then answered."""
import pytest

from service.answer.conversation import parse, places_in, resolve, state_of, topic_of

PLACES = ["粤海街道", "天水郡街道", "翠苑街道", "坦洲镇", "海珠区"]
WHICH_CASE_FAST = "在已收录的 5 份报告中，共有 2 个地方提到“推行简案快办”：翠苑街道[1]、坦洲镇[3]。"
WHICH_ACCEPT = "在已收录的 5 份报告中，共有 2 个地方提到“推行容缺受理”：粤海街道[1]、坦洲镇[2]。"


def turns(*pairs):
    """History as a plain client sends it: question and answer only."""
    return [{"question": q, "answer": a} for q, a in pairs]


def resolved(question, *pairs):
    return resolve(question, turns(*pairs), PLACES).resolved


def test_no_history_leaves_the_question_alone():
    resolution = resolve("坦洲镇办了多少宗？", [], PLACES)
    assert (resolution.resolved, resolution.topic, resolution.exclude) == ("坦洲镇办了多少宗？", "", ())


def test_a_follow_up_of_a_follow_up_keeps_the_first_topic():
    # The known failure: the resolver used to read only the last turn and lose 简案快办.
    history = (("哪些地方推行简案快办？", WHICH_CASE_FAST), ("坦洲镇办了多少宗？", "坦洲镇：……37宗[1]。"))
    assert resolved("翠苑街道呢？", *history) == "翠苑街道推行简案快办办了多少宗？"
    assert resolved("那翠苑呢？", *history) == "翠苑街道推行简案快办办了多少宗？"
    assert resolve("翠苑街道呢？", turns(*history), PLACES).topic == "推行简案快办"


def test_a_place_with_a_question_shape_takes_the_earlier_topic():
    assert resolved("坦洲镇办了多少宗？", ("哪些地方推行简案快办？", WHICH_CASE_FAST)) == "坦洲镇推行简案快办办了多少宗？"


def test_a_client_resolved_question_is_not_needed_and_not_trusted():
    history = turns(("哪些地方推行简案快办？", WHICH_CASE_FAST), ("坦洲镇办了多少宗？", "…"))
    history[1]["resolved_question"] = "坦洲镇办了多少宗？"  # a stale client copy without the topic
    assert resolve("翠苑街道呢？", history, PLACES).resolved == "翠苑街道推行简案快办办了多少宗？"


@pytest.mark.parametrize("question, expected", [
    ("其中坦洲镇办了多少宗？", "坦洲镇推行简案快办办了多少宗？"),
    ("第二个是怎么做的？", "坦洲镇推行简案快办是怎么做的？"),
    ("后者是怎么做的？", "坦洲镇推行简案快办是怎么做的？"),
    ("他们各办了多少宗？", "翠苑街道、坦洲镇推行简案快办办了多少宗？"),
])
def test_picking_among_the_places_just_listed(question, expected):
    assert resolved(question, ("哪些地方推行简案快办？", WHICH_CASE_FAST)) == expected


@pytest.mark.parametrize("question, expected", [
    ("那它的行政复议呢？", "坦洲镇行政复议有多少？"),  # 办了…宗 belonged to 简案快办
    ("该镇收到政府信息公开申请多少份？", "坦洲镇收到政府信息公开申请多少份？"),
    ("这个做法翠苑街道是怎么做的？", "翠苑街道简案快办是怎么做的？"),
    ("这项工作海珠区呢？", "海珠区简案快办办了多少宗？"),
])
def test_pronouns_stand_for_the_last_place_or_topic(question, expected):
    assert resolved(question, ("坦洲镇办了多少宗简案快办？", "坦洲镇：……37宗[1]。")) == expected


def test_a_new_topic_keeps_the_count_but_not_the_old_topics_verb_and_counting_word():
    history = (("天水郡街道开展了多少场法制宣传活动？", "天水郡街道：……80余场次[1]。"), ("坦洲镇呢？", "坦洲镇：……53场次[1]。"))
    assert resolved("坦洲镇呢？", history[0]) == "坦洲镇法制宣传活动开展了多少场？"  # same topic: all of it carries
    assert resolved("那它的法律援助呢？", *history) == "坦洲镇法律援助有多少？"
    assert resolved("法制宣传活动呢？", ("坦洲镇受理了几宗法律援助案件？", "…7宗[1]。")) == "坦洲镇法制宣传活动有多少？"


def test_a_new_topic_with_an_elliptic_question_keeps_the_place():
    history = (("翠苑街道行政诉讼败诉率是多少？", "翠苑街道：……败诉率57%[1]。"),)
    resolution = resolve("行政复议呢？", turns(*history), PLACES)
    assert resolution.resolved == "翠苑街道行政复议有多少？"
    assert "败诉率" not in resolution.resolved


@pytest.mark.parametrize("follow_ups, expected", [
    (["去年呢？"], "翠苑街道2023年行政诉讼败诉率是多少？"),
    (["前年呢？"], "翠苑街道2022年行政诉讼败诉率是多少？"),
    (["去年呢？", "前年呢？"], "翠苑街道2022年行政诉讼败诉率是多少？"),  # counted from 2024, not from 2023
    (["2023年呢？"], "翠苑街道2023年行政诉讼败诉率是多少？"),
    (["去年呢？", "海珠区呢？"], "海珠区2023年行政诉讼败诉率是多少？"),
])
def test_time_shifts_move_the_year_asked_about(follow_ups, expected):
    history = [("翠苑街道2024年行政诉讼败诉率是多少？", "翠苑街道：……57%[1]。")]
    for question in follow_ups[:-1]:
        history.append((question, "……"))
    assert resolved(follow_ups[-1], *history) == expected


def test_a_time_shift_without_a_stated_year_says_the_year_before():
    assert resolved("去年呢？", ("坦洲镇受理民间纠纷案件多少宗？", "坦洲镇：570宗[1]。")) == "坦洲镇上一年受理民间纠纷案件多少宗？"


def test_more_places_repeats_the_which_question_without_those_named():
    history = (("哪些地方推行简案快办？", WHICH_CASE_FAST), ("坦洲镇办了多少宗？", "坦洲镇：……37宗[1]。"))
    resolution = resolve("还有哪里推行简案快办？", turns(*history), PLACES)
    assert resolution.resolved == "哪些地方推行简案快办？"
    assert set(resolution.exclude) == {"翠苑街道", "坦洲镇"}
    bare = resolve("还有哪里？", turns(*history), PLACES)
    assert (bare.resolved, set(bare.exclude)) == ("哪些地方推行简案快办？", {"翠苑街道", "坦洲镇"})


def test_except_names_the_places_set_aside():
    resolution = resolve("除了粤海街道，还有哪些地方推行“容缺受理”？", turns(("哪些地方推行“容缺受理”?", WHICH_ACCEPT)), PLACES)
    assert resolution.resolved == "哪些地方推行“容缺受理”？"
    assert resolution.exclude == ("粤海街道",)
    bare = resolve("除了坦洲镇还有哪些地方？", turns(("哪些地方推行“容缺受理”?", WHICH_ACCEPT)), PLACES)
    assert (bare.resolved, bare.exclude) == ("哪些地方推行“容缺受理”？", ("坦洲镇",))


def test_except_without_history_still_sets_the_place_aside():
    resolution = resolve("除了翠苑街道，还有哪些地方推行简案快办？", [], PLACES)
    assert (resolution.resolved, resolution.exclude) == ("哪些地方推行简案快办？", ("翠苑街道",))


def test_more_places_on_a_new_topic_sets_nothing_aside():
    resolution = resolve("还有哪些地方开展人民调解？", turns(("哪些地方推行简案快办？", WHICH_CASE_FAST)), PLACES)
    assert (resolution.resolved, resolution.exclude) == ("哪些地方开展人民调解？", ())


@pytest.mark.parametrize("question", ["海珠区建成了宪法主题公园吗？", "如何化解矛盾纠纷？", "哪些地方开展人民调解？"])
def test_a_new_self_contained_question_is_not_rewritten(question):
    history = (("哪些地方推行简案快办？", WHICH_CASE_FAST), ("坦洲镇办了多少宗？", "……"))
    resolution = resolve(question, turns(*history), PLACES)
    assert (resolution.resolved, resolution.exclude) == (question, ())


def test_after_a_new_question_follow_ups_use_the_new_topic():
    history = (("哪些地方推行简案快办？", WHICH_CASE_FAST), ("海珠区办理信访事项多少件？", "海珠区：6441件[1]。"))
    assert resolved("坦洲镇呢？", *history) == "坦洲镇办理信访事项多少件？"


def test_a_place_after_a_which_question_asks_how_that_place_does_it():
    assert resolved("海珠区呢？", ("哪些地方推行简案快办？", WHICH_CASE_FAST)) == "海珠区推行简案快办的情况如何？"


def test_the_state_records_the_places_an_answer_lists_in_order():
    state = state_of(turns(("哪些地方推行“容缺受理”?", WHICH_ACCEPT)), PLACES)
    assert (state.topic, state.listed, state.shape) == ("推行“容缺受理”", ("粤海街道", "坦洲镇"), "which")


def test_places_in_reads_short_forms_in_text_order():
    assert places_in("坦洲和翠苑都推行了", PLACES) == ["坦洲镇", "翠苑街道"]
    assert places_in("天水市的报告", PLACES) == []


def test_parse_splits_shape_year_and_topic():
    parts = parse("坦洲镇2023年受理法律援助案件多少宗？", PLACES)
    assert (parts.places, parts.year, parts.shape, parts.topic) == (("坦洲镇",), 2023, "count", "受理法律援助案件")


def test_topic_of_drops_places_which_phrases_and_shapes():
    assert topic_of("哪些地方推行简案快办？", PLACES) == "推行简案快办"
    assert topic_of("翠苑街道行政诉讼败诉率是多少？", PLACES) == "行政诉讼败诉率"


# --- Through the API, each turn's real answer fed back as history -------------------------
def ask_all(client, questions):
    history, body = [], None
    for question in questions:
        response = client.post("/api/ask", json={"question": question, "history": history})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        history.append({"question": question, "answer": body["answer"]})
    return body


def quotes(body, issuer):
    return [c["quote"] for g in body["groups"] if g["issuer"] == issuer for c in g["citations"]]


def test_api_follow_up_of_a_follow_up_answers_for_the_new_place(client):
    body = ask_all(client, ["哪些地方推行简案快办？", "坦洲镇办了多少宗？", "翠苑街道呢？"])
    assert "简案快办" in body["resolved_question"] and "翠苑街道" in body["resolved_question"]
    assert [g["issuer"] for g in body["groups"]] == ["翠苑街道"]
    assert any("简案快办16件" in q for q in quotes(body, "翠苑街道")), body["answer"]


def test_api_more_places_leaves_out_the_places_already_named(client):
    first = ask_all(client, ["哪些地方推行简案快办？"])
    named = {g["issuer"] for g in first["groups"]}
    assert named, first["answer"]
    body = ask_all(client, ["哪些地方推行简案快办？", "还有哪里推行简案快办？"])
    assert body["resolved_question"] == "哪些地方推行简案快办？"
    assert not named & {g["issuer"] for g in body["groups"]}, body["answer"]
    assert f"已除去前面提到的 {len(named)} 个地方" in body["answer"], body["answer"]


def test_api_except_keeps_the_other_place(client):
    body = ask_all(client, ["哪些地方推行简案快办？", "除了翠苑街道，还有哪些地方推行简案快办？"])
    assert [g["issuer"] for g in body["groups"]] == ["坦洲镇"], body["answer"]
    assert any("37宗" in q for q in quotes(body, "坦洲镇"))


def test_api_place_swap_after_a_how_question(client):
    body = ask_all(client, ["哪些地方推行“容缺受理”?", "粤海街道是怎么做的？", "坦洲呢？"])
    assert body["resolved_question"] == "坦洲镇推行“容缺受理”是怎么做的？"
    assert [g["issuer"] for g in body["groups"]] == ["坦洲镇"]
    assert any("容缺受理" in q for q in quotes(body, "坦洲镇"))


def test_api_new_topic_keeps_the_place(client):
    # 「行政复议呢？」 used to pass through unchanged and still find 翠苑街道 by luck.
    body = ask_all(client, ["翠苑街道行政诉讼败诉率是多少？", "行政复议呢？"])
    assert body["resolved_question"] == "翠苑街道行政复议有多少？"
    assert [g["issuer"] for g in body["groups"]] == ["翠苑街道"]
    assert any("行政复议案件发案43件" in q for q in quotes(body, "翠苑街道")), body["answer"]


@pytest.mark.parametrize("question, expected", [
    ("那里的行政复议怎么样？", "坦洲镇行政复议的情况如何？"),  # 怎么样 asks how it stands, not how it is done
    ("翠苑街道怎么样？", "翠苑街道推行简案快办的情况如何？"),
    ("它是怎样做的？", "坦洲镇推行简案快办是怎样做的？"),
])
def test_how_it_stands_is_not_how_it_is_done(question, expected):
    assert resolved(question, ("哪些地方推行简案快办？", "共有 1 个地方做过“推行简案快办”：坦洲镇[1]。")) == expected


@pytest.mark.parametrize("question, expected", [
    ("它明年有什么打算？", "坦洲镇明年有什么打算？"),  # was 「坦洲镇明年有什么打算的情况如何？」
    ("该镇下一步准备怎么做？", "坦洲镇下一步准备怎么做？"),
    ("他们下一步打算做什么？", "坦洲镇下一步打算做什么？"),
])
def test_a_question_about_a_places_plans_keeps_its_plans_wording(question, expected):
    assert resolved(question, ("哪些地方推行简案快办？", "共有 1 个地方做过“推行简案快办”：坦洲镇[1]。")) == expected


def test_api_the_plans_of_one_place_then_of_another(client):
    body = ask_all(client, ["哪些地方推行简案快办？", "它明年有什么打算？", "翠苑街道呢？"])
    assert body["resolved_question"] == "翠苑街道明年有什么打算？"
    assert body["kind"] == "plans" and [g["issuer"] for g in body["groups"]] == ["翠苑街道"]
    assert body["answer"].startswith("翠苑街道的报告对下一步的安排：")


@pytest.mark.parametrize("question, expected", [
    ("第二个呢？", "天水郡街道明年有什么工作打算？"),  # was 「…有什么工作打算的情况如何？」
    ("那坦洲镇呢？", "坦洲镇明年有什么工作打算？"),
])
def test_a_place_picked_after_which_places_plan_what_asks_for_its_plans(question, expected):
    listed = "在符合条件（街道）的 3 份报告中，3 个地方的报告写明了下一步的安排：粤海街道[1]、天水郡街道[4]、翠苑街道[7]。"
    assert resolved(question, ("哪些街道明年有什么工作打算？", listed)) == expected


@pytest.mark.parametrize("follow_up, expected", [
    ("它去年办了多少宗？", "坦洲镇上一年受理行政复议案件办了多少宗？"),  # was 「坦洲镇上一年明年办了多少宗？」
    ("翠苑街道呢？", "翠苑街道明年有什么打算？"),
    ("这项工作明年有什么打算？", "坦洲镇受理行政复议案件明年有什么打算？"),  # 这项工作 carries the topic
])
def test_a_plans_turn_keeps_the_topic_before_it_without_asking_about_it(follow_up, expected):
    history = (("坦洲镇受理行政复议案件多少宗？", "坦洲镇：受理行政复议案件7宗[1]。"),
               ("它明年有什么打算？", "坦洲镇的报告对下一步的安排：……"))
    assert resolved(follow_up, *history) == expected


@pytest.mark.parametrize("first, answer, follow_up, expected", [
    ("哪个地方的法律援助案件最多？", "……海珠区最多：海珠区：…[1]；坦洲镇：…[2]。", "第二个呢？", "坦洲镇法律援助案件有多少？"),
    ("哪个地方的法律援助案件最多？", "……海珠区最多：海珠区：…[1]；坦洲镇：…[2]。", "翠苑街道呢？", "翠苑街道法律援助案件有多少？"),
    ("各地的行政复议案件分别是多少？", "……翠苑街道：…[1]；海珠区：…[2]。", "坦洲镇呢？", "坦洲镇行政复议案件是多少？"),
])
def test_a_place_after_figures_across_places_asks_for_its_figure(first, answer, follow_up, expected):
    # was 「翠苑街道的法律援助案件最多的情况如何？」 and 「坦洲镇各地的行政复议案件是多少？」
    assert resolved(follow_up, (first, answer)) == expected
