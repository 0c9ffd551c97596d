"""Who decides the commands and writes the reply: the embedded rules, or an OpenAI-compatible LLM."""
