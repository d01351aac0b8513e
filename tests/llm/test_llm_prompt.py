"""The prompt builder: instructions, citable context, fitting into the window, honesty grades."""

from __future__ import annotations

from kenning.llm.base import Message
from kenning.llm.prompt import (
    SYSTEM_PROMPT,
    Exchange,
    Support,
    assess,
    build_prompt,
    estimate_tokens,
    support_notice,
)

STAGING = ("fact", "mem:staging-port", "Staging port", "Staging listens on port 8443.", 0.03)
DEPLOY = (
    "decision",
    "mem:deploy-fridays",
    "No deploys on Friday",
    "We never deploy on Fridays.",
    0.02,
)
CODE = ("code", "src/app.py:10-20", "def serve()", "def serve():\n    run(port=PORT)", 0.01)


def test_system_prompt_demands_context_only_answers_and_citations():
    text = SYSTEM_PROMPT.lower()
    assert "only the context" in text
    assert "the context does not say" in text
    assert "cite" in text and "[ref]" in text


def test_prompt_is_system_then_user_with_refs_and_question(make_packet):
    packet = make_packet("which port?", STAGING, CODE)
    prompt = build_prompt(packet, "which port?", context_window=4096)
    assert [m.role for m in prompt.messages] == ["system", "user"]
    user = prompt.messages[-1].content
    assert "[mem:staging-port] fact: Staging port\nStaging listens on port 8443." in user
    assert "[src/app.py:10-20] code: def serve()" in user
    assert user.index("mem:staging-port") < user.index("src/app.py")  # rank order kept
    assert user.endswith("Question: which port?")
    assert [i.ref for i in prompt.used] == ["mem:staging-port", "src/app.py:10-20"]
    assert prompt.dropped == []


def test_conflicts_come_first_as_warnings(make_packet):
    packet = make_packet(
        "deploy on friday",
        STAGING,
        conflicts=(("mem:deploy-fridays", "No deploys on Friday", "ruled out 2026-03-01"),),
    )
    prompt = build_prompt(packet, "deploy on friday", context_window=4096)
    user = prompt.messages[-1].content
    assert user.index("WARNING") < user.index("mem:staging-port")
    assert "[mem:deploy-fridays] WARNING" in user
    assert prompt.context_refs == ("mem:deploy-fridays", "mem:staging-port")


def test_lowest_ranked_items_are_dropped_to_fit_the_window(make_packet):
    filler = [("note", f"mem:n{i}", f"Note {i}", "word " * 200, 0.1) for i in range(10)]
    packet = make_packet("q", STAGING, *filler)
    prompt = build_prompt(packet, "q", context_window=1200, max_answer_tokens=200)
    assert prompt.tokens <= 1000
    assert prompt.used[0].ref == "mem:staging-port"
    assert prompt.dropped, "something had to go"
    assert [i.ref for i in prompt.used + prompt.dropped] == [i.ref for i in packet.items]


def test_exact_token_counter_is_used_when_given(make_packet):
    packet = make_packet("q", STAGING)
    calls: list[str] = []

    def count(text: str) -> int:
        calls.append(text)
        return 1

    prompt = build_prompt(packet, "q", context_window=100, max_answer_tokens=10, count_tokens=count)
    assert calls and prompt.used


def test_followup_keeps_earlier_turns_and_does_not_repeat_their_items(make_packet):
    first = build_prompt(make_packet("port?", STAGING), "port?", context_window=4096)
    history = [first.exchange("Port 8443 [mem:staging-port].")]
    second = build_prompt(
        make_packet("and on fridays?", DEPLOY, STAGING),
        "and on fridays?",
        context_window=4096,
        history=history,
    )
    roles = [m.role for m in second.messages]
    assert roles == ["system", "user", "assistant", "user"]
    # The earlier turn is sent exactly as before, so the model's prompt cache matches it.
    assert second.messages[:2] == first.messages
    assert second.messages[2] == Message("assistant", "Port 8443 [mem:staging-port].")
    last = second.messages[-1].content
    assert "mem:deploy-fridays" in last and "mem:staging-port" not in last
    assert {i.ref for i in second.used} == {"mem:deploy-fridays", "mem:staging-port"}


def test_old_context_goes_first_and_its_items_are_sent_again(make_packet):
    old_block = "[mem:staging-port] fact: Staging port\n" + "word " * 300
    history = [Exchange("first?", old_block, ("mem:staging-port",), "ok")]
    prompt = build_prompt(
        make_packet("second?", STAGING),
        "second?",
        context_window=600,
        max_answer_tokens=100,
        history=history,
    )
    assert prompt.history_kept == 1
    assert prompt.messages[1] == Message("user", "first?")  # the turn stays, its context goes
    assert "[mem:staging-port]" in prompt.messages[-1].content  # so the item is sent again
    assert prompt.tokens <= 500


def test_old_turns_go_when_dropping_their_context_is_not_enough(make_packet):
    history = [Exchange("q" * 1600, "", (), "a" * 400), Exchange("recent?", "", (), "yes")]
    prompt = build_prompt(
        make_packet("now?", STAGING),
        "now?",
        context_window=600,
        max_answer_tokens=100,
        history=history,
    )
    assert prompt.history_kept == 1
    assert prompt.messages[1] == Message("user", "recent?")


def test_assess_grades_empty_weak_and_ok(make_packet):
    assert assess(make_packet("which port?")) is Support.EMPTY
    assert assess(make_packet("which port does staging use?", STAGING)) is Support.OK
    only_conflict = make_packet("q", conflicts=(("mem:x", "X", "because"),))
    assert assess(only_conflict) is Support.OK


def test_items_that_share_no_word_with_the_question_are_weak(make_packet):
    # What vector search returns for an off-topic question: neighbours, none about it.
    packet = make_packet("what is the capital of France?", STAGING, DEPLOY, CODE)
    assert assess(packet) is Support.WEAK
    # ...unless one was named by the request or scope-matched (the engine scores those 1.0).
    named = ("person", "mem:dana", "Dana Whitfield", "Head of finance.", 1.0)
    assert assess(make_packet("who signs off?", named)) is Support.OK


def test_a_scoped_rule_alone_does_not_back_an_answer(make_packet):
    # The engine scores a rule 1.0 when its scope covers a file in the packet, and that file
    # can be a mere vector neighbour of an off-topic question.
    rule = ("rule", "mem:tests-offline", "Tests never touch the network", "Use fakes.", 1.0)
    assert assess(make_packet("what is the capital of France?", rule, CODE)) is Support.WEAK


def test_word_overlap_ignores_stopwords_and_plurals(make_packet):
    packet = make_packet("what are the deploy days?", DEPLOY)
    assert assess(packet) is Support.OK  # "deploys" in the item, "deploy" in the question
    assert assess(packet, "what is it and how would you do that?") is Support.WEAK


def test_notices_tell_the_user_what_to_do():
    empty = support_notice(Support.EMPTY, answering=False)
    assert empty is not None and "kenning remember" in empty and "--anyway" in empty
    weak = support_notice(Support.WEAK, answering=False)
    assert weak is not None and "not asked" in weak
    answering = support_notice(Support.WEAK, answering=True)
    assert answering is not None and "not backed" in answering
    assert support_notice(Support.OK, answering=True) is None


def test_estimate_errs_on_the_high_side_of_four_characters_a_token():
    assert estimate_tokens("") == 0
    text = "The staging server listens on port 8443 behind the VPN."
    assert estimate_tokens(text) >= len(text) // 4
