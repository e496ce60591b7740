package audits

import (
	"fmt"
	"time"
)

// SyntheticCitizenID makes a valid-looking citizen ID number (GB 11643, with its check character)
// for demo data, tests and benchmarks. It is never a real person's number by intent.
func SyntheticCitizenID(region string, birth time.Time, seq int) string {
	base := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(base[i]-'0') * weights[i]
	}
	return base + string("10X98765432"[sum%11])
}

const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// SyntheticCreditCode makes a unified social credit code (GB 32100) with a correct check character:
// registered by civil affairs (5), a private non-enterprise unit (2), in region, with a serial.
func SyntheticCreditCode(region string, serial int) string {
	body := fmt.Sprintf("52%s", region)
	n := serial
	for i := 0; i < 9; i++ {
		body += string(creditAlphabet[(n+i*7)%31])
		n /= 31
	}
	w, sum := 1, 0
	for i := 0; i < 17; i++ {
		for v := 0; v < len(creditAlphabet); v++ {
			if creditAlphabet[v] == body[i] {
				sum += v * w
			}
		}
		w = w * 3 % 31
	}
	return body + string(creditAlphabet[(31-sum%31)%31])
}
