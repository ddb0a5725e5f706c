package store

import (
	"os"
	"testing"

	"github.com/atollhq/atoll/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
