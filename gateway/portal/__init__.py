"""The patient portal's pages: sign-up, verification, account, records, downloads, access history."""
