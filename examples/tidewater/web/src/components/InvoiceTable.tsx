import { Link } from "react-router-dom";

import type { InvoiceSummary } from "../api/types";
import { formatCents } from "../lib/money";
import { PaymentStatusBadge } from "./PaymentStatusBadge";

function isOverdue(invoice: InvoiceSummary, today: Date): boolean {
  return invoice.status === "issued" && invoice.due_on !== null && new Date(invoice.due_on) < today;
}

export function InvoiceTable({ invoices }: { invoices: InvoiceSummary[] }) {
  const today = new Date();
  // TODO: sortable columns (Dana asked for sort by due date, 2026-01 call)
  return (
    <table className="invoice-table">
      <thead>
        <tr>
          <th>Number</th>
          <th>Customer</th>
          <th>Due</th>
          <th className="num">Total</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {invoices.map((invoice) => (
          <tr key={invoice.id}>
            <td>
              <Link to={`/invoices/${invoice.id}`}>{invoice.number ?? "(draft)"}</Link>
            </td>
            <td>{invoice.customer_name}</td>
            <td>{invoice.due_on ?? "—"}</td>
            <td className="num">{formatCents(invoice.total_cents, invoice.currency)}</td>
            <td>
              <PaymentStatusBadge status={invoice.status} overdue={isOverdue(invoice, today)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
