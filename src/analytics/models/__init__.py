"""Models: churn prediction (``analytics.models.churn``) and retention projection (``analytics.models.retention``)."""

from analytics.models import churn, retention

__all__ = ["churn", "retention"]
