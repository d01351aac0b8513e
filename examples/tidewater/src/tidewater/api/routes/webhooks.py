"""Inbound webhooks from the PSP. Verify, record, apply; answer fast."""

from __future__ import annotations

import json
import time

import psycopg
from fastapi import APIRouter, Depends, Header, HTTPException, Request

from tidewater.api.deps import get_conn
from tidewater.payments.events import InvalidSignature, handle_psp_event, verify_psp_signature
from tidewater.settings import get_settings

router = APIRouter()


@router.post("/psp")
async def psp_webhook(
    request: Request,
    stripe_signature: str = Header(alias="Stripe-Signature"),
    conn: psycopg.Connection = Depends(get_conn),
) -> dict[str, bool]:
    payload = await request.body()
    try:
        verify_psp_signature(
            get_settings().webhook_signing_secret, payload, stripe_signature, int(time.time())
        )
    except InvalidSignature as exc:
        raise HTTPException(400, str(exc)) from exc
    handle_psp_event(conn, json.loads(payload))
    conn.commit()
    return {"received": True}
