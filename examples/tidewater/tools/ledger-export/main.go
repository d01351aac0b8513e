// ledger-export writes ledger entries for one month as CSV for Harbourline's accountant.
//
// Usage:
//
//	ledger-export -month 2026-03 > ledger-2026-03.csv
//
// It reads TIDEWATER_DATABASE_URL and only ever SELECTs: the ledger is append-only.
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// formatCents renders integer cents as "1234.50" without going through float64.
func formatCents(cents int64) string {
	sign := ""
	if cents < 0 {
		sign = "-"
		cents = -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

func monthBounds(month string) (time.Time, time.Time, error) {
	start, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("month must look like 2026-03: %w", err)
	}
	return start, start.AddDate(0, 1, 0), nil
}

func main() {
	month := flag.String("month", time.Now().AddDate(0, -1, 0).Format("2006-01"), "month to export (YYYY-MM)")
	flag.Parse()

	from, to, err := monthBounds(*month)
	if err != nil {
		log.Fatal(err)
	}
	dsn := os.Getenv("TIDEWATER_DATABASE_URL")
	if dsn == "" {
		log.Fatal("TIDEWATER_DATABASE_URL is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)

	rows, err := conn.Query(ctx, `
		SELECT id, posted_at, account, direction, amount_cents, currency, reference
		FROM ledger_entries WHERE posted_at >= $1 AND posted_at < $2 ORDER BY id`, from, to)
	if err != nil {
		log.Fatalf("query: %v", err)
	}
	defer rows.Close()

	w := csv.NewWriter(os.Stdout)
	_ = w.Write([]string{"id", "posted_at", "account", "debit", "credit", "currency", "reference"})
	for rows.Next() {
		var (
			id                                   int64
			postedAt                             time.Time
			account, direction, currency, reference string
			amount                               int64
		)
		if err := rows.Scan(&id, &postedAt, &account, &direction, &amount, &currency, &reference); err != nil {
			log.Fatalf("scan: %v", err)
		}
		debit, credit := "", ""
		if direction == "debit" {
			debit = formatCents(amount)
		} else {
			credit = formatCents(amount)
		}
		_ = w.Write([]string{strconv.FormatInt(id, 10), postedAt.UTC().Format(time.RFC3339), account,
			debit, credit, currency, reference})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		log.Fatal(err)
	}
}
