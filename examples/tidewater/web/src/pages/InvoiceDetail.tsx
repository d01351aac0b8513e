import { useEffect, useState } from "react";
import { useParams } from "react-router-dom";

import { getInvoice, issueInvoice } from "../api/client";
import type { InvoiceDetail as Detail } from "../api/types";
import { PaymentStatusBadge } from "../components/PaymentStatusBadge";
import { formatCents } from "../lib/money";

export function InvoiceDetail() {
  const { id } = useParams();
  const [invoice, setInvoice] = useState<Detail | null>(null);

  useEffect(() => {
    if (id) getInvoice(Number(id)).then(setInvoice);
  }, [id]);

  if (!invoice) return <p>Loading…</p>;

  return (
    <main>
      <h1>
        Invoice {invoice.number ?? "(draft)"} <PaymentStatusBadge status={invoice.status} />
      </h1>
      <dl>
        <dt>Customer</dt>
        <dd>{invoice.customer_name}</dd>
        <dt>Subtotal</dt>
        <dd>{formatCents(invoice.subtotal_cents, invoice.currency)}</dd>
        <dt>{invoice.tax_label}</dt>
        <dd>{formatCents(invoice.tax_cents, invoice.currency)}</dd>
        <dt>Total</dt>
        <dd>{formatCents(invoice.total_cents, invoice.currency)}</dd>
      </dl>
      {invoice.status === "draft" && (
        <button onClick={() => issueInvoice(invoice.id).then(() => getInvoice(invoice.id).then(setInvoice))}>
          Issue invoice
        </button>
      )}
      <a href={`/api/invoices/${invoice.id}/pdf`}>Download PDF</a>
    </main>
  );
}
