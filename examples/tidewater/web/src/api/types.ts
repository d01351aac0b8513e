// Shapes returned by the tidewater JSON API (src/tidewater/api/routes/*.py).
// Amounts are integer cents, as on the server: never convert to float for arithmetic.

export type InvoiceStatus = "draft" | "issued" | "paid" | "void" | "written_off";

export interface InvoiceSummary {
  id: number;
  number: string | null;
  customer_name: string;
  status: InvoiceStatus;
  total_cents: number;
  currency: string;
  due_on: string | null;
}

export interface InvoiceDetail extends InvoiceSummary {
  subtotal_cents: number;
  tax_cents: number;
  tax_label: string;
}

export interface LoginResponse {
  csrf_token: string;
  role: "billing" | "finance" | "admin";
}

export interface RefundResponse {
  refund_id: string;
}
