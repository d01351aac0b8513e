"""Tiny fixtures for the benchmark suites: a LoCoMo-shaped file and a small git history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LOCOMO = [
    {
        "sample_id": "conv-a",
        "conversation": {
            "speaker_a": "Alice",
            "speaker_b": "Bob",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {
                    "speaker": "Alice",
                    "dia_id": "D1:1",
                    "text": "I adopted a greyhound named Biscuit last week.",
                },
                {
                    "speaker": "Bob",
                    "dia_id": "D1:2",
                    "text": "Lovely! I started learning the cello.",
                },
                {
                    "speaker": "Alice",
                    "dia_id": "D1:3",
                    "text": "My sister moved to Lisbon for her new job.",
                },
            ],
            "session_2_date_time": "10:00 am on 20 June, 2023",
            "session_2": [
                {
                    "speaker": "Bob",
                    "dia_id": "D2:1",
                    "text": "My cello recital is on Friday evening.",
                },
                {
                    "speaker": "Alice",
                    "dia_id": "D2:2",
                    "text": "Biscuit chewed my favourite sandals.",
                },
            ],
        },
        "qa": [
            {
                "question": "What is the name of Alice's greyhound?",
                "answer": "Biscuit",
                "evidence": ["D1:1"],
                "category": 4,
            },
            {
                "question": "Which city did Alice's sister move to?",
                "answer": "Lisbon",
                "evidence": ["D1:3"],
                "category": 4,
            },
            {
                "question": "When is the cello recital, and when did Bob start the cello?",
                "answer": "Friday",
                "evidence": ["D1:2; D2:1"],
                "category": 1,
            },
            {
                "question": "What did Biscuit chew?",
                "answer": "sandals",
                "evidence": ["D:2:02"],
                "category": 2,
            },
            {
                "question": "What is Bob's favourite film?",
                "adversarial_answer": "none",
                "evidence": [],
                "category": 5,
            },
        ],
    },
    {
        "sample_id": "conv-b",
        "conversation": {
            "speaker_a": "Chen",
            "speaker_b": "Dara",
            "session_1_date_time": "9:15 am on 2 March, 2022",
            "session_1": [
                {
                    "speaker": "Chen",
                    "dia_id": "D1:1",
                    "text": "I finished the marathon in four hours.",
                },
                {
                    "speaker": "Dara",
                    "dia_id": "D1:2",
                    "text": "I am painting a sunrise over the harbour.",
                },
            ],
        },
        "qa": [
            {
                "question": "What is Dara painting?",
                "answer": "a sunrise",
                "evidence": ["D1:2", "D7:7"],
                "category": 4,
            },
        ],
    },
]


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo-tiny.json"
    path.write_text(json.dumps(LOCOMO))
    return path


def _git(root: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            "HOME": str(root),
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        },
    )


@pytest.fixture
def history_repo(tmp_path: Path) -> Path:
    """A small git history: two real changes, a release bump, and an add-only commit."""
    root = tmp_path / "history-repo"
    (root / "app").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    files = {
        "app/__init__.py": '__version__ = "0.1"\n',
        "app/mailer.py": (
            '"""Send email over SMTP."""\n\n\ndef send_email(to, body):\n'
            '    """Deliver one message through the SMTP relay."""\n    return (to, body)\n'
        ),
        "app/billing.py": (
            '"""Invoices and their totals."""\n\n\ndef invoice_total(lines):\n'
            '    """Sum the invoice lines."""\n    return sum(lines)\n'
        ),
        "app/search.py": (
            '"""Full-text search over products."""\n\n\ndef search_products(query):\n'
            "    return [query]\n"
        ),
        "README.md": "# app\n\nA small shop.\n",
    }
    for rel, text in files.items():
        (root / rel).write_text(text)
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "Initial shop")
    (root / "app" / "mailer.py").write_text(files["app/mailer.py"] + "\nRETRIES = 3\n")
    _git(root, "commit", "-q", "-am", "Retry SMTP email delivery when the relay times out")
    (root / "app" / "billing.py").write_text(files["app/billing.py"] + "\nCENTS = 100\n")
    _git(root, "commit", "-q", "-am", "Round invoice totals to whole cents")
    (root / "app" / "__init__.py").write_text('__version__ = "0.2"\n')
    _git(root, "commit", "-q", "-am", "Release 0.2")
    (root / "app" / "new.py").write_text("x = 1\n")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "Add a brand new module for things")
    return root
