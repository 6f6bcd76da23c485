# Models for API keys arrive with the tenant API keys issue.
