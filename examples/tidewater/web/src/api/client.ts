// The only module that calls fetch(). Components and hooks go through these functions
// (rule: web-api-calls-through-client-2f9d).
import type { InvoiceDetail, InvoiceSummary, LoginResponse, RefundResponse } from "./types";

let csrfToken: string | null = null;

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const detail = await response.json().catch(() => ({ detail: response.statusText }));
    throw new ApiError(response.status, detail.detail ?? "request failed");
  }
  return (await response.json()) as T;
}

export async function login(email: string, password: string): Promise<LoginResponse> {
  const result = await call<LoginResponse>("POST", "/auth/login", { email, password });
  csrfToken = result.csrf_token;
  return result;
}

export function listInvoices(status?: string): Promise<InvoiceSummary[]> {
  const query = status ? `?status=${encodeURIComponent(status)}` : "";
  return call<InvoiceSummary[]>("GET", `/invoices${query}`);
}

export function getInvoice(id: number): Promise<InvoiceDetail> {
  return call<InvoiceDetail>("GET", `/invoices/${id}`);
}

export function issueInvoice(id: number): Promise<{ number: string }> {
  return call("POST", `/invoices/${id}/issue`);
}

export function refundPayment(
  paymentIntentId: string,
  amountCents: number,
  reason: string,
): Promise<RefundResponse> {
  return call("POST", `/payments/${paymentIntentId}/refund`, {
    amount_cents: amountCents,
    reason,
  });
}
