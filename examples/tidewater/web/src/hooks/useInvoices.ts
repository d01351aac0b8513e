import { useEffect, useState } from "react";

import { listInvoices } from "../api/client";
import type { InvoiceSummary } from "../api/types";

export function useInvoices(status?: string) {
  const [invoices, setInvoices] = useState<InvoiceSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    listInvoices(status)
      .then((rows) => !cancelled && setInvoices(rows))
      .catch((e: Error) => !cancelled && setError(e.message))
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [status]);

  return { invoices, error, loading };
}
