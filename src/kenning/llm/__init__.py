"""Local models answering from kenning's context: llama.cpp, OpenAI-compatible servers, ONNX GenAI.

Typical use::

    from kenning.llm import Conversation, ModelConfig, open_model
    from kenning.workspace import Workspace

    ws = Workspace.open(".")
    model = open_model(ModelConfig())            # the packaged SmolLM2, on 2 threads
    reply = Conversation(model, brief=ws.brief).ask("which port does staging use?")
    print(reply.answer, [item.ref for item in reply.sources])

Importing this package imports no model runtime; opening a model does.
"""

from __future__ import annotations

from kenning.llm.base import (
    BackendNotInstalled,
    ChatModel,
    GenerationError,
    LLMError,
    Message,
    ModelNotFound,
    RemoteURLRefused,
    ServerUnavailable,
    TokenCounter,
)
from kenning.llm.loader import ModelConfig, open_model
from kenning.llm.prompt import Prompt, Support, assess, build_prompt
from kenning.llm.session import Conversation, Reply

__all__ = [
    "BackendNotInstalled",
    "ChatModel",
    "Conversation",
    "GenerationError",
    "LLMError",
    "Message",
    "ModelConfig",
    "ModelNotFound",
    "Prompt",
    "RemoteURLRefused",
    "Reply",
    "ServerUnavailable",
    "Support",
    "TokenCounter",
    "assess",
    "build_prompt",
    "open_model",
]
