"""Domain logic of the customer registry. No request objects here; views call these."""
