"""Model providers for Bastion agents (bedrock, sagemaker, openai-compatible, local, scripted)."""
