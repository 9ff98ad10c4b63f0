## मरीज़ पोर्टल, हिन्दी। यहाँ का हर संदेश en/ और ar/ में भी होना चाहिए।

portal-title = मरीज़ पोर्टल
lang-switch = भाषा
lang-save = भाषा बदलें
date-long = { $day } { $month } { $year }
month-1 = जनवरी
month-2 = फ़रवरी
month-3 = मार्च
month-4 = अप्रैल
month-5 = मई
month-6 = जून
month-7 = जुलाई
month-8 = अगस्त
month-9 = सितंबर
month-10 = अक्टूबर
month-11 = नवंबर
month-12 = दिसंबर

## साइन इन
sign-in-heading = अपने मरीज़ पोर्टल में साइन इन करें
sign-in-intro = क्लिनिक से मिली पर्ची पर लिखा मरीज़ नंबर और अपना पासवर्ड इस्तेमाल करें।
patient-number = मरीज़ नंबर
password-label = पासवर्ड
sign-in = साइन इन करें
sign-out = साइन आउट करें
first-time = पहली बार आए हैं? क्लिनिक से मिले एक-बार के कोड से अपना खाता शुरू करें।
activate-heading = पोर्टल खाता शुरू करें
activate-intro = अपना मरीज़ नंबर और क्लिनिक से मिला एक-बार का कोड डालें, फिर कम से कम 12 अक्षरों का पासवर्ड चुनें।
one-time-code = एक-बार का कोड
new-password = नया पासवर्ड
repeat-password = पासवर्ड दोबारा लिखें
activate-button = पासवर्ड सहेजें और साइन इन करें
have-password = खाता पहले से शुरू है? पासवर्ड से साइन इन करें।
error-sign-in = मरीज़ नंबर या पासवर्ड सही नहीं है। क्लिनिक की पर्ची देखें और फिर से कोशिश करें।
error-code = यह कोड सही नहीं है, पहले इस्तेमाल हो चुका है या उसकी अवधि खत्म हो गई है। क्लिनिक से नया कोड माँगें।
error-password-short = पासवर्ड में कम से कम 12 अक्षर रखें।
error-refused = यह नहीं हो सका। अपने पेज पर वापस जाएँ और फिर से कोशिश करें।
error-internal = हमारी ओर से कुछ गड़बड़ हुई; कुछ भी नहीं बदला गया। अगर ऐसा फिर हो, तो अपने क्लिनिक को यह संदर्भ दें: { $reference }
error-password-weak = इस पासवर्ड का अनुमान लगाना आसान है (आम शब्द, कोई पैटर्न, तारीख या आपका अपना नाम)। तीन या चार असंबंधित शब्दों का उपयोग करें।
error-password-long = अपने पासवर्ड में अधिकतम 200 अक्षर रखें।
error-password-mismatch = दोनों पासवर्ड एक जैसे नहीं हैं। उन्हें फिर से लिखें।
error-throttled = बहुत अधिक प्रयास। कुछ मिनट रुकें, फिर कोशिश करें।
error-form-expired = इस फ़ॉर्म की अवधि खत्म हो गई है। पेज दोबारा लोड करके फिर से कोशिश करें।
error-not-found = यह पेज मौजूद नहीं है, या आपके रिकॉर्ड का हिस्सा नहीं है।
error-unavailable = पोर्टल अभी उपलब्ध नहीं है। कुछ मिनट बाद फिर से कोशिश करें।

## मुख्य पेज
welcome-name = नमस्ते, { $name }
home-intro = यहाँ आप अपनी इलाज योजना, उसके बारे में क्या पता है, अपनी सहमति, अपनी कोशिकाओं का रिकॉर्ड और अपनी प्रश्नावलियाँ देख सकते हैं।
plans-none = क्लिनिक ने अभी तक आपकी कोई इलाज योजना दर्ज नहीं की है।
plan-heading = आपकी इलाज योजना
plan-condition = बीमारी
plan-product = इलाज
plan-route = कैसे दिया जाएगा
plan-sessions = सत्र
plan-cost = बताया गया खर्च
plan-status = स्थिति
plan-status-active = जारी है
plan-status-blocked = सबूत की जाँच ने रोका
plan-status-completed = पूरा हुआ
plan-status-stopped = रुकी हुई

## उत्पाद के प्रकार
product-autologous-adipose = आपकी अपनी चर्बी से ली गई कोशिकाएँ
product-autologous-bone-marrow = आपकी अपनी अस्थि मज्जा की कोशिकाएँ
product-cord-blood-hpc = दान किया गया गर्भनाल रक्त (रक्त बनाने वाली कोशिकाएँ)
product-allogeneic-msc = दाता की स्ट्रोमल ("मेसेनकाइमल") कोशिकाएँ
product-embryonic-derived = भ्रूण स्टेम कोशिकाओं से बनी कोशिकाएँ
product-msc-exosome = एक्सोसोम (स्ट्रोमल कोशिकाओं से निकलने वाले कण)
product-prp = आपके अपने खून से बना प्लेटलेट-युक्त प्लाज़्मा

## सबूत
evidence-heading = इस इलाज के बारे में क्या पता है
evidence-status-approved = स्वीकृत
evidence-status-investigational = परीक्षण में
evidence-status-unproven = अप्रमाणित
evidence-status-research-only = केवल शोध के लिए
evidence-meaning-approved = दवा नियामक ने इस बीमारी के लिए इस उत्पाद को स्वीकृति दी है, यह सबूत देखकर कि यह काम करता है और पर्याप्त सुरक्षित है।
evidence-meaning-investigational = इस इलाज की जाँच एक पंजीकृत क्लिनिकल ट्रायल में हो रही है। यह स्वीकृत नहीं है, और अभी कोई नहीं जानता कि यह काम करता है या नहीं।
evidence-meaning-unproven = इस बात का कोई भरोसेमंद सबूत नहीं है कि यह इलाज इस बीमारी में काम करता है, और किसी नियामक ने इसे स्वीकृति नहीं दी है। हो सकता है आप पैसे दें और कोई फ़ायदा न हो, और इसमें जोखिम भी हैं।
evidence-meaning-research-only = इस उत्पाद का इस्तेमाल केवल किसी शोध अध्ययन के अंदर हो सकता है। इसे इलाज के रूप में नहीं दिया जाना चाहिए।
evidence-summary = सबूत का सार (अंग्रेज़ी में, सबूत फ़ाइल संस्करण { $version })
evidence-sources = स्रोत
evidence-trial = क्लिनिकल ट्रायल { $trial }
unproven-warning = फ़ैसला करने से पहले: मशहूर लोगों की कहानियाँ और विज्ञापन सबूत नहीं हैं। क्लिनिक से आपकी जैसी बीमारी वाले लोगों के प्रकाशित नतीजे माँगें, पूछें कि इलाज काम न करे तो क्या होगा, और सोचने के लिए समय लें। आप मना कर सकते हैं।
warning-acknowledged = आपने { $date } को हस्ताक्षर करके बताया कि आपने यह चेतावनी पढ़ी है।

## क्लिनिक
clinic-heading = आपका क्लिनिक
clinic-accreditations = मान्यताएँ
clinic-no-accreditations = इस क्लिनिक की कोई मान्यता दर्ज नहीं है।

## सहमति
consent-heading = आपकी सहमति
consent-none = आपने इस योजना के लिए अभी तक सहमति पर हस्ताक्षर नहीं किए हैं।
consent-signed = आपने { $date } को अपनी सहमति पर हस्ताक्षर किए।
consent-withdrawn = आपने { $date } को अपनी सहमति वापस ले ली। इस योजना के तहत अब कुछ नहीं किया जाएगा।
consent-read = अपना सहमति पत्र पढ़ें
withdraw-heading = अपनी सहमति वापस लें
withdraw-intro = आप कभी भी, बिना कारण बताए, सहमति वापस ले सकते हैं। आपकी कोशिकाओं का इस्तेमाल नहीं होगा और इस योजना के तहत आगे कोई इलाज नहीं दिया जाएगा। आपकी बाकी देखभाल नहीं बदलेगी।
withdraw-reason = कारण (वैकल्पिक)
withdraw-confirm = मैं इस योजना के लिए अपनी सहमति वापस लेना चाहता/चाहती हूँ।
withdraw-button = सहमति वापस लें
withdraw-must-confirm = सहमति वापस लेने की पुष्टि के लिए बॉक्स पर निशान लगाएँ।
withdraw-done = आपकी सहमति वापस ले ली गई है। क्लिनिक को यह अब आपके रिकॉर्ड में दिखता है।

## उत्पाद की कहानी
story-heading = आपकी कोशिकाओं की कहानी
story-none = इस योजना के लिए अभी तक कोई कोशिकाएँ ली या तय नहीं की गई हैं।
story-unit = यूनिट { $din } ({ $product })
step-isolation = कोशिकाओं को अलग करना
step-expansion = कल्चर में कोशिकाएँ बढ़ाना
step-harvest = कोशिकाएँ एकत्र करना
step-cryopreservation = रखने के लिए जमाना
step-thaw = पिघलाना
step-exosome-isolation = एक्सोसोम अलग करना
step-prp-preparation = प्लेटलेट-युक्त प्लाज़्मा तैयार करना
step-division = खुराकों में बाँटना
story-collected = { $site } में ली गईं
story-processed = { $site } में तैयार की गईं: { $step }
story-tested = जाँच: { $test }, { $result }
story-test-pass = मानक के भीतर
story-test-fail = मानक से बाहर
story-released = गुणवत्ता आश्वासन ने जारी किया
story-exceptional = अपवाद के रूप में जारी, गुणवत्ता आश्वासन और डॉक्टर के हस्ताक्षर से
story-shipped = { $from } से { $to } भेजी गईं
story-received = { $site } में प्राप्त हुईं
story-stored = { $site } में रखी गईं
story-allocated = आपकी योजना के लिए अलग रखी गईं
story-administered = आपको दी गईं
story-discarded = नष्ट की गईं

## प्रश्नावलियाँ
questionnaires-heading = प्रश्नावलियाँ
questionnaires-none = अभी आपके लिए कोई प्रश्नावली नहीं है।
questionnaire-due = कृपया { $date } तक जवाब दें
questionnaire-answer = अभी जवाब दें
questionnaire-done = जवाब मिल गया, धन्यवाद
questionnaire-upcoming = { $date } को खुलेगी
questionnaire-missed = समय निकल गया
instrument-nprs = दर्द का अंक (0 से 10)
instrument-koos = घुटने की प्रश्नावली (KOOS)
instrument-pgic = आपकी हालत कितनी बदली है?
questionnaire-intro = हर सवाल का जवाब अपनी अभी की हालत के हिसाब से दें। कोई जवाब सही या गलत नहीं है।
questionnaire-closed = यह प्रश्नावली अभी खुली नहीं है। अपने पोर्टल पर तारीखें देखें।
questionnaire-overdue = देर हो गई: कृपया { $date } तक जवाब दें
questionnaire-submit = मेरे जवाब भेजें
questionnaire-saved = धन्यवाद। आपके जवाब आपके रिकॉर्ड में सहेज दिए गए हैं।
questionnaire-incomplete = भेजने से पहले कृपया हर सवाल का जवाब दें।
time-point-baseline = इलाज से पहले
time-point-1m = इलाज के 1 महीने बाद
time-point-3m = इलाज के 3 महीने बाद
time-point-6m = इलाज के 6 महीने बाद
time-point-12m = इलाज के 12 महीने बाद

## आपका डेटा
data-heading = आपका डेटा
data-intro = celltrace में आपके बारे में जो कुछ है, वह सब आप एक फ़ाइल में डाउनलोड कर सकते हैं।
data-download = मेरा डेटा डाउनलोड करें (JSON)
footer-record = यहाँ आप जो भी पेज खोलते हैं, वह आपके रिकॉर्ड के ऑडिट ट्रेल में दर्ज होता है।
