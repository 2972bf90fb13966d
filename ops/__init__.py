"""Operations on a deployed environment: services up/down, smoke test, integration checks, the demo."""
