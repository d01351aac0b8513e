import { useState } from "react";

import { refundPayment } from "../api/client";
import { parseCents } from "../lib/money";

export function RefundForm({ paymentIntentId, currency }: { paymentIntentId: string; currency: string }) {
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [message, setMessage] = useState<string | null>(null);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    try {
      const result = await refundPayment(paymentIntentId, parseCents(amount, currency), reason);
      setMessage(`Refund ${result.refund_id} created`);
    } catch (e) {
      setMessage((e as Error).message);
    }
  }

  return (
    <form onSubmit={submit} className="refund-form">
      <label>
        Amount ({currency})
        <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" />
      </label>
      <label>
        Reason
        <input value={reason} onChange={(e) => setReason(e.target.value)} required />
      </label>
      <button type="submit">Refund</button>
      {message && <p role="status">{message}</p>}
    </form>
  );
}
