"""Fine-tuning a sentence encoder into a RelBERT-style relation model (the RelBERT 2.x recipe).

``semeval`` reads the training relations (no torch); ``loss``, ``layer_split``, ``prompt_bank``,
``loop``, ``checkpoint`` and ``export`` need torch and are imported only by ``relsearch train``.
"""
