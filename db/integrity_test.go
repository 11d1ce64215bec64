package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

func TestDamagedDatabaseIsNotReady(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "damaged.db")
	s, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("a sound database: %v", err)
	}
	// Enough audit rows to spread over many pages, then a clean close that
	// leaves everything in the main file.
	for i := range 3000 {
		if _, err := s.InsertAudit(ctx, app.AuditEntry{Time: time.Unix(int64(1e9+i), 0), Actor: fmt.Sprintf("user%d@example.com", i), Action: "test.row", Outcome: app.OutcomeOK, Message: strings.Repeat("m", 100)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	// Garbage over a page in the middle of the file.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	page := int64(4096)
	mid := (fi.Size() / page / 2) * page
	if _, err := f.WriteAt([]byte(strings.Repeat("\xde\xad\xbe\xef", int(page)/4)), mid); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// It still opens (an admin can still download what is readable)...
	s, err = db.Open(ctx, path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	// ...but it is not ready.
	if err := s.Ping(ctx); !errors.Is(err, app.ErrCorrupt) {
		t.Fatalf("Ping on a damaged database = %v, want ErrCorrupt", err)
	}
}
