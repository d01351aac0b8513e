import type { InvoiceStatus } from "../api/types";

const LABELS: Record<InvoiceStatus, { text: string; tone: string }> = {
  draft: { text: "Draft", tone: "grey" },
  issued: { text: "Open", tone: "blue" },
  paid: { text: "Paid", tone: "green" },
  void: { text: "Void", tone: "grey" },
  written_off: { text: "Written off", tone: "red" },
};

export function PaymentStatusBadge({ status, overdue }: { status: InvoiceStatus; overdue?: boolean }) {
  const label = overdue && status === "issued" ? { text: "Overdue", tone: "orange" } : LABELS[status];
  return <span className={`badge badge-${label.tone}`}>{label.text}</span>;
}
