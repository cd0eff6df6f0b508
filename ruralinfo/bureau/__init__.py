"""Bureau staff area: dashboards (broadcasts and questions come with later features)."""
