import { useState } from "react";

import { InvoiceTable } from "../components/InvoiceTable";
import { useInvoices } from "../hooks/useInvoices";
import { formatCents } from "../lib/money";

export function Dashboard() {
  const [status, setStatus] = useState<string | undefined>("issued");
  const { invoices, error, loading } = useInvoices(status);
  const openCents = invoices.filter((i) => i.status === "issued").reduce((sum, i) => sum + i.total_cents, 0);

  return (
    <main>
      <h1>Invoices</h1>
      <p className="kpi">Open: {formatCents(openCents, "EUR")}</p>
      <select value={status ?? ""} onChange={(e) => setStatus(e.target.value || undefined)}>
        <option value="">All</option>
        <option value="issued">Open</option>
        <option value="paid">Paid</option>
        <option value="draft">Drafts</option>
      </select>
      {loading && <p>Loading…</p>}
      {error && <p className="error">{error}</p>}
      {!loading && !error && <InvoiceTable invoices={invoices} />}
    </main>
  );
}
