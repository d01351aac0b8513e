"""Conversation: packet per turn, honesty gate, history; /remember parsing.

The model here is a scripted ``ChatModel`` (a fake of the Protocol, not of kenning's code); the
real models are exercised in test_llm_llamacpp.py and test_llm_openai_compat.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from kenning.llm.base import ChatModel, Message, TokenCounter
from kenning.llm.prompt import Support
from kenning.llm.session import Conversation, parse_remember

STAGING = ("fact", "mem:staging-port", "Staging port", "Staging listens on port 8443.", 0.03)


class ScriptedModel:
    """Answers each call with the next scripted text, recording what it was sent."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls: list[list[Message]] = []

    @property
    def name(self) -> str:
        return "scripted"

    @property
    def context_window(self) -> int:
        return 2048

    def generate(
        self,
        messages: Sequence[Message],
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
    ) -> str:
        return "".join(self.stream(messages, max_tokens, temperature, stop))

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        yield from self.answers.pop(0).split(" ")


def test_scripted_model_satisfies_the_protocol():
    model = ScriptedModel()
    assert isinstance(model, ChatModel)
    assert not isinstance(model, TokenCounter)


def test_answer_streams_and_lists_the_sources(make_packet):
    model = ScriptedModel("Port 8443 [mem:staging-port].")
    conversation = Conversation(model, brief=lambda q: make_packet(q, STAGING))
    reply = conversation.prepare("which port does staging use?")
    assert reply.support is Support.OK and reply.notice is None
    pieces = list(conversation.stream(reply))
    assert "".join(pieces) == "Port8443[mem:staging-port]."
    assert [item.ref for item in reply.sources] == ["mem:staging-port"]
    assert "Staging listens on port 8443." in model.calls[0][-1].content


def test_empty_packet_is_not_sent_to_the_model(make_packet):
    model = ScriptedModel("invented")
    conversation = Conversation(model, brief=lambda q: make_packet(q))
    reply = conversation.ask("what is the staging password?")
    assert reply.support is Support.EMPTY
    assert not reply.will_answer and reply.answer == ""
    assert reply.notice is not None and "found nothing" in reply.notice
    assert model.calls == [] and conversation.history == []


def test_weak_packet_is_not_sent_to_the_model_when_strict(make_packet):
    model = ScriptedModel("invented")
    conversation = Conversation(model, brief=lambda q: make_packet(q, STAGING))
    reply = conversation.ask("what is the capital of France?")
    assert reply.support is Support.WEAK and not reply.will_answer
    assert reply.notice is not None and "not asked" in reply.notice
    assert model.calls == []


def test_empty_packet_goes_to_the_model_only_when_asked(make_packet):
    model = ScriptedModel("general answer")
    conversation = Conversation(model, brief=lambda q: make_packet(q), answer_without_context=True)
    reply = conversation.ask("what is a port?")
    assert reply.answer == "generalanswer" and len(model.calls) == 1


def test_chat_answers_a_weak_packet_with_a_notice(make_packet):
    model = ScriptedModel("maybe")
    conversation = Conversation(model, brief=lambda q: make_packet(q, STAGING), strict=False)
    reply = conversation.ask("what is the capital of France?")
    assert reply.support is Support.WEAK and reply.will_answer
    assert reply.notice is not None and "not backed" in reply.notice
    assert reply.answer == "maybe"


def test_chat_follow_up_without_a_packet_answers_from_history(make_packet):
    packets = iter([make_packet("port?", STAGING), make_packet("and why?")])
    model = ScriptedModel("8443", "Because of the VPN")
    conversation = Conversation(model, brief=lambda q: next(packets), strict=False)
    conversation.ask("which port does staging use?")
    follow = conversation.ask("and why?")
    assert follow.support is Support.EMPTY and follow.will_answer
    assert "Staging listens on port 8443." in model.calls[1][1].content


def test_turns_join_the_history_and_follow_ups_see_them(make_packet):
    model = ScriptedModel("8443", "Yes")
    conversation = Conversation(model, brief=lambda q: make_packet(q, STAGING))
    conversation.ask("staging port?")
    conversation.ask("is that port https?")
    assert [e.question for e in conversation.history] == ["staging port?", "is that port https?"]
    second = model.calls[1]
    assert [m.role for m in second] == ["system", "user", "assistant", "user"]
    assert second[2].content == "8443"


def test_stopping_early_keeps_the_partial_answer(make_packet):
    conversation = Conversation(
        ScriptedModel("one two three"), brief=lambda q: make_packet(q, STAGING)
    )
    reply = conversation.prepare("staging port?")
    stream = conversation.stream(reply)
    assert next(stream) == "one"
    stream.close()
    assert reply.answer == "one" and not reply.finished
    assert conversation.history[0].answer == "one"


@pytest.mark.parametrize(
    ("text", "kind", "body"),
    [
        ("decision: we use Postgres for the ledger", "decision", "we use Postgres for the ledger"),
        ("Rule: never log tokens", "rule", "never log tokens"),
        ("We decided to keep the monolith", "decision", "We decided to keep the monolith"),
        ("never commit .env files", "rule", "never commit .env files"),
        ("I prefer small pull requests", "preference", "I prefer small pull requests"),
        ("SLO means service level objective", "term", "SLO means service level objective"),
        ("staging runs on port 8443", "note", "staging runs on port 8443"),
        ("http: is not a kind", "note", "http: is not a kind"),
    ],
)
def test_remember_kind_is_named_or_inferred(text, kind, body):
    assert parse_remember(text) == (kind, body)


def test_remember_default_kind_applies_when_none_is_named():
    assert parse_remember("staging runs on 8443", "fact") == ("fact", "staging runs on 8443")
    assert parse_remember("rule: x", "fact") == ("rule", "x")
