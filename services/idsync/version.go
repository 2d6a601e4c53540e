package idsync

import "github.com/idsync/idsync/pkg/metrics"

func version() string { return metrics.Version }
