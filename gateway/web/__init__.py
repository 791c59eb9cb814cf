"""What every web page shares: sessions, CSRF, who is logged in, security headers, dates, JSON errors."""
