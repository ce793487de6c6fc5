"""The property manager's portal and the fleet overview on the dashboards."""
