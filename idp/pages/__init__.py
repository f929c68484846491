"""The site's own pages (help, accessibility, personal data, legal notice), language switch."""
